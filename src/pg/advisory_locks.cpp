#include "pg/advisory_locks.hpp"

#include <cstdio>

namespace pf::pg {

bool try_session_lock(LockClass c, int32 key) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_catalog.pg_try_advisory_lock(%d::pg_catalog.int4, %d::pg_catalog.int4)",
             lock_class(c), key);
    if (SPI_execute(sql, false, 1) != SPI_OK_SELECT) elog(ERROR, "advisory lock query failed");
    bool isnull;
    return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

void session_locks(LockClass c, const int32* keys, int n, bool release, bool* got) {
    Datum* d = static_cast<Datum*>(palloc0(sizeof(Datum) * (n + 1)));
    for (int i = 0; i < n; i++) d[i] = Int32GetDatum(keys[i]);
    Oid type = INT4ARRAYOID;
    Datum arr = PointerGetDatum(construct_array(d, n, INT4OID, 4, true, TYPALIGN_INT));
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT u.k, pg_catalog.%s(%d::pg_catalog.int4, u.k)"
             "  FROM pg_catalog.unnest($1::pg_catalog.int4[]) WITH ORDINALITY AS u(k, o) ORDER BY u.o",
             release ? "pg_advisory_unlock" : "pg_try_advisory_lock", lock_class(c));
    if (SPI_execute_with_args(sql, 1, &type, &arr, nullptr, false, 0) != SPI_OK_SELECT ||
        static_cast<int>(SPI_processed) != n)
        elog(ERROR, "advisory locks failed");
    for (int i = 0; i < n && !release; i++) {
        bool isnull;
        got[i] = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
    }
}

void xact_lock_shared(LockClass c, int32 key) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_catalog.pg_advisory_xact_lock_shared(%d::pg_catalog.int4, %d::pg_catalog.int4)",
             lock_class(c), key);
    int rc = SPI_execute(sql, false, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "taking an advisory lock failed: %s", SPI_result_code_string(rc));
}

void lock_content_hashes(Datum hashes) {
    Oid type = TEXTARRAYOID;
    // Worker SQL names every function, operator and type with its schema and
    // casts literals to the exact signature (docs/architecture.md,
    // "Privileges"): nothing here may resolve to an object a database owner
    // planted.
    int rc = SPI_execute_with_args("SELECT pg_catalog.pg_advisory_xact_lock(s.k) FROM"
                                   " (SELECT DISTINCT pg_catalog.hashtextextended(u.h, 0::pg_catalog.int8) AS k"
                                   "    FROM pg_catalog.unnest($1::pg_catalog.text[]) AS u(h)) s ORDER BY s.k",
                                   1, &type, &hashes, nullptr, false, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "hash locks failed: %s", SPI_result_code_string(rc));
}

}  // namespace pf::pg
