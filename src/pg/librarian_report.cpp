#include "pg/librarian_report.hpp"

#include "pg/worker.hpp"

namespace pf::pg {

void send_librarian_report(const LibrarianReport& r) {
    static const char* kBeat =
        "SELECT photofactory._librarian_beat($1::pg_catalog.int4, $2::pg_catalog.int4, $3::pg_catalog.text, "
        "$4::pg_catalog.text, $5::pg_catalog.text, $6::pg_catalog.bool, $7::pg_catalog.int4, $8::pg_catalog.int4, "
        "$9::pg_catalog.int4, $10::pg_catalog.int4, $11::pg_catalog.text[])";
    if (SPI_execute("SELECT pg_catalog.to_regprocedure('photofactory._librarian_beat(pg_catalog.int4, pg_catalog.int4, "
                    "pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.bool, pg_catalog.int4, "
                    "pg_catalog.int4, pg_catalog.int4, pg_catalog.int4, pg_catalog.text[])') IS NOT NULL",
                    true, 1) != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "photofactory: looking up _librarian_beat failed");
    bool isnull;
    bool have = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    if (!have) {
        send_heartbeat("librarian", r.status, r.task);
        return;
    }

    // The stuck paths as a text[].
    int n = 0;
    for (const char* p = r.stuck_paths; p && *p; p++)
        if (*p == '\n') n++;
    Datum* elems = static_cast<Datum*>(palloc0(sizeof(Datum) * (n + 1)));
    int k = 0;
    for (const char* p = r.stuck_paths; p && *p && k < n;) {
        const char* nl = strchr(p, '\n');
        elems[k++] = PointerGetDatum(cstring_to_text_with_len(p, static_cast<int>(nl - p)));
        p = nl + 1;
    }
    ArrayType* arr = construct_array(elems, k, TEXTOID, -1, false, TYPALIGN_INT);

    Oid types[11] = {INT4OID, INT4OID, TEXTOID, TEXTOID, TEXTOID, BOOLOID, INT4OID, INT4OID, INT4OID, INT4OID,
                     TEXTARRAYOID};
    Datum values[11] = {Int32GetDatum(r.index), Int32GetDatum(r.workers), CStringGetTextDatum(r.status),
                        CStringGetTextDatum(r.task ? r.task : ""), CStringGetTextDatum(r.inbox_dir ? r.inbox_dir : ""),
                        BoolGetDatum(r.scanned), Int32GetDatum(r.ready), Int32GetDatum(r.settling),
                        Int32GetDatum(r.stuck), Int32GetDatum(r.unlisted), PointerGetDatum(arr)};
    int rc = SPI_execute_with_args(kBeat, 11, types, values, nullptr, false, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "photofactory._librarian_beat failed: %s", SPI_result_code_string(rc));
}

void send_librarian_gone(int index) {
    if (SPI_execute("SELECT pg_catalog.to_regprocedure('photofactory._librarian_gone(pg_catalog.int4)') IS NOT NULL",
                    true, 1) != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "photofactory: looking up _librarian_gone failed");
    bool isnull;
    if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull))) return;
    Oid type = INT4OID;
    Datum value = Int32GetDatum(index);
    int rc = SPI_execute_with_args("SELECT photofactory._librarian_gone($1::pg_catalog.int4)", 1, &type, &value, nullptr,
                                   false, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "photofactory._librarian_gone failed: %s", SPI_result_code_string(rc));
}

}  // namespace pf::pg
