// One page query, C-style inside run_in_transaction (our own PG_TRY frame):
// read-only unless it is the curation write, which takes the operator role.
// The result is row 1, column 1 as malloc'd text, so no palloc'd memory
// outlives the transaction.
#include <cstring>

#include "pg/boundary.hpp"
#include "pg/dashboard_internal.hpp"
#include "pg/dashboard_queries.hpp"
#include "pg/pg_headers.hpp"
#include "pg/worker.hpp"

namespace pf::pg::dashw {

namespace {

bool spi_bool(const char* sql) {
    if (SPI_execute(sql, true, 1) != SPI_OK_SELECT || SPI_processed != 1) elog(ERROR, "probe failed");
    bool isnull;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    return !isnull && DatumGetBool(d);
}

void query_step(void* arg) {
    auto* q = static_cast<QueryArgs*>(arg);
    // Read-only from here on: any write by a page query fails.
    if (q->read_only) XactReadOnly = true;
    if (q->probe) {
        q->has_places = spi_bool(dashq::kHasPlaces);
        q->has_thumbs = spi_bool(dashq::kHasThumbnails);
    }
    if (q->as_operator && SPI_execute("SET LOCAL ROLE photofactory_operator", false, 0) != SPI_OK_UTILITY)
        elog(ERROR, "could not take the operator role");
    Oid types[2] = {UUIDOID, TEXTOID};
    Datum values[2] = {0, 0};
    char nulls[2] = {'n', ' '};
    int nargs = 0;
    if (strstr(q->sql, "$1") != nullptr) {
        nargs = 1;
        if (q->uuid_arg != nullptr) {
            values[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(q->uuid_arg));
            nulls[0] = ' ';
        }
    }
    if (strstr(q->sql, "$2") != nullptr) {
        nargs = 2;
        values[1] = CStringGetTextDatum(q->text_arg ? q->text_arg : "");
    }
    int rc = SPI_execute_with_args(q->sql, nargs, types, values, nulls, q->read_only, 2);
    if (rc != SPI_OK_SELECT) elog(ERROR, "dashboard query failed: %s", SPI_result_code_string(rc));
    if (SPI_processed < 1) return;
    char* v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
    if (v == nullptr) return;
    q->result = strdup(v);
    if (q->result == nullptr) elog(ERROR, "out of memory");
}

}  // namespace

// Runs one query; true when it ran (result may still be nullptr: no row).
bool run_query(QueryArgs* q, char* err, size_t errlen) {
    q->result = nullptr;
    return run_in_transaction("dashboard query", query_step, q, err, errlen);
}

}  // namespace pf::pg::dashw
