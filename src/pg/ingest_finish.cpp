// Phase D of ingest_batch: the moves recorded (ledger rows and audit events,
// journal rows retired) in one statement, or the journal rows of files that
// did not move dropped.
#include "pg/ingest_work.hpp"
#include "pg/spi_util.hpp"

namespace pf::pg {

void finish_step(void* arg) {
    auto* a = static_cast<FinishArg*>(arg);
    const int n = a->set.n;
    Datum* ids = static_cast<Datum*>(palloc0(sizeof(Datum) * (n + 1)));
    const char** finals = static_cast<const char**>(palloc0(sizeof(char*) * (n + 1)));
    for (int i = 0; i < n; i++) {
        ids[i] = Int64GetDatum(a->set.items[i]->journal_id);
        finals[i] = a->set.items[i]->final_rel;
    }
    Oid types[2] = {INT8ARRAYOID, TEXTARRAYOID};
    Datum vals[2] = {PointerGetDatum(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)),
                     a->finish ? cstring_array(finals, nullptr, n, TEXTOID) : (Datum)0};
    int rc = a->finish ? SPI_execute_with_args("SELECT photofactory._journal_finish_many($1::pg_catalog.int8[], $2::pg_catalog.text[])", 2, types, vals,
                                               nullptr, false, 0)
                       : SPI_execute_with_args("DELETE FROM photofactory.ingest_journal"
                                               " WHERE id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.int8[])", 1,
                                               types, vals, nullptr, false, 0);
    if (rc < 0) elog(ERROR, "journal update failed: %s", SPI_result_code_string(rc));
}

}  // namespace pf::pg
