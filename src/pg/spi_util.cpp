#include "pg/spi_util.hpp"

#include <cstdio>

namespace pf::pg {

bool spi_text1(const char* sql, const char* param, char* out, size_t outlen) {
    Oid type = TEXTOID;
    Datum v = CStringGetTextDatum(param);
    int rc = SPI_execute_with_args(sql, 1, &type, &v, nullptr, false, 1);
    if (rc < 0) elog(ERROR, "query failed (%s): %s", SPI_result_code_string(rc), sql);
    if (SPI_processed == 0) return false;
    if (out != nullptr) {
        char* s = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
        snprintf(out, outlen, "%s", s ? s : "");
    }
    return true;
}

Datum cstring_array(const char* const* vals, const bool* nulls, int n, Oid elemtype) {
    Datum* d = static_cast<Datum*>(palloc0(sizeof(Datum) * (n + 1)));
    for (int i = 0; i < n; i++) {
        if (nulls != nullptr && nulls[i]) continue;
        if (elemtype == BYTEAOID) {
            size_t len = strlen(vals[i]);
            bytea* raw = static_cast<bytea*>(palloc(VARHDRSZ + len));
            SET_VARSIZE(raw, VARHDRSZ + len);
            memcpy(VARDATA(raw), vals[i], len);
            d[i] = PointerGetDatum(raw);
        } else {
            d[i] = CStringGetTextDatum(vals[i]);
        }
    }
    int dims[1] = {n};
    int lbs[1] = {1};
    bool* nl = static_cast<bool*>(palloc0(sizeof(bool) * (n + 1)));
    if (nulls != nullptr) memcpy(nl, nulls, sizeof(bool) * n);
    return PointerGetDatum(construct_md_array(d, nl, 1, dims, lbs, elemtype, -1, false, TYPALIGN_INT));
}

void new_uuid(char* out, size_t outlen) {
    uint8 b[16];
    if (!pg_strong_random(b, sizeof b)) elog(ERROR, "could not generate a random UUID");
    b[6] = static_cast<uint8>((b[6] & 0x0f) | 0x40);  // version 4
    b[8] = static_cast<uint8>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
    snprintf(out, outlen, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

char* spi_cell(uint64 row, int col) {
    return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}

char*** spi_rows(const char* sql, Oid type, Datum arg, int ncols, const char* what, int* nrows) {
    int rc = SPI_execute_with_args(sql, 1, &type, &arg, nullptr, false, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "%s failed: %s", what, SPI_result_code_string(rc));
    *nrows = static_cast<int>(SPI_processed);
    char*** rows = static_cast<char***>(palloc0(sizeof(char**) * (*nrows + 1)));
    for (int r = 0; r < *nrows; r++) {
        rows[r] = static_cast<char**>(palloc0(sizeof(char*) * (ncols + 1)));
        for (int c = 0; c < ncols; c++) rows[r][c] = spi_cell(r, c + 1);
    }
    return rows;
}

}  // namespace pf::pg
