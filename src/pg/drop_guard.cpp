#include "pg/drop_guard.hpp"

#include "pg/pg_headers.hpp"

extern "C" {
#include "nodes/parsenodes.h"
}

namespace pf::pg {

namespace {

bool allow_drop_with_ledger = false;
ProcessUtility_hook_type prev_process_utility = nullptr;

bool names_photofactory(const DropStmt* stmt) {
    ListCell* lc;
    foreach (lc, stmt->objects) {
        Node* n = static_cast<Node*>(lfirst(lc));
        if (IsA(n, String) && strcmp(strVal(n), "photofactory") == 0) return true;
    }
    return false;
}

// Rows in the ledger (assets + sidecars) of this database's photofactory.
int64 ledger_rows() {
    if (!OidIsValid(get_extension_oid("photofactory", true))) return 0;
    bool pushed = false;
    if (!ActiveSnapshotSet()) {
        PushActiveSnapshot(GetTransactionSnapshot());
        pushed = true;
    }
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    int rc = SPI_execute("SELECT (SELECT pg_catalog.count(*) FROM photofactory.media_assets)"
                         " OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM photofactory.asset_sidecars)",
                         true, 1);
    if (rc != SPI_OK_SELECT || SPI_processed != 1) elog(ERROR, "counting the photofactory ledger failed");
    bool isnull = false;
    int64 n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    SPI_finish();
    if (pushed) PopActiveSnapshot();
    return isnull ? 0 : n;
}

void check_drop(const DropStmt* stmt) {
    // DROP EXTENSION photofactory, or DROP SCHEMA photofactory CASCADE (which
    // takes the extension with it).
    bool drops = (stmt->removeType == OBJECT_EXTENSION && names_photofactory(stmt)) ||
                 (stmt->removeType == OBJECT_SCHEMA && stmt->behavior == DROP_CASCADE && names_photofactory(stmt));
    if (!drops) return;
    int64 n = ledger_rows();
    if (n == 0) return;
    if (allow_drop_with_ledger) {
        ereport(WARNING, (errmsg("dropping photofactory deletes its ledger of %lld files", static_cast<long long>(n)),
                          errdetail("photofactory.allow_drop_with_ledger is on. The files in storage are not touched.")));
        return;
    }
    ereport(ERROR, (errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
                    errmsg("cannot drop photofactory: its ledger records %lld files", static_cast<long long>(n)),
                    errdetail("Dropping the extension deletes the ledger (media_assets, asset_sidecars, inbox_events, ...); "
                              "the files in storage stay, but the record of them would be gone."),
                    errhint("Keep a dump first (pg_dump -Fc). To drop anyway: SET photofactory.allow_drop_with_ledger = on; "
                            "a lost ledger can be rebuilt from the library with photofactory.adopt_orphans().")));
}

void guard_process_utility(PlannedStmt* pstmt, const char* query, bool read_only_tree, ProcessUtilityContext context,
                           ParamListInfo params, QueryEnvironment* query_env, DestReceiver* dest,
                           QueryCompletion* qc) {
    Node* tree = pstmt->utilityStmt;
    if (tree != nullptr && IsA(tree, DropStmt)) check_drop(reinterpret_cast<DropStmt*>(tree));
    if (prev_process_utility)
        prev_process_utility(pstmt, query, read_only_tree, context, params, query_env, dest, qc);
    else
        standard_ProcessUtility(pstmt, query, read_only_tree, context, params, query_env, dest, qc);
}

}  // namespace

void install_drop_guard() {
    DefineCustomBoolVariable("photofactory.allow_drop_with_ledger",
                             "Allows DROP EXTENSION photofactory while its ledger holds rows.",
                             "Off by default: dropping the extension deletes the ledger. Set it for one session "
                             "after keeping a dump.",
                             &allow_drop_with_ledger, false, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    prev_process_utility = ProcessUtility_hook;
    ProcessUtility_hook = guard_process_utility;
}

}  // namespace pf::pg
