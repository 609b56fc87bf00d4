#include "pg/library_database.hpp"

#include "pg/gucs.hpp"
#include "pg/pg_headers.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(pf_require_library_database);
}

namespace pf::pg {

bool in_library_database() {
    const char* here = get_database_name(MyDatabaseId);
    return here != nullptr && guc_database != nullptr && strcmp(here, guc_database) == 0;
}

void require_library_database(const char* what) {
    if (in_library_database()) return;
    // photofactory.database is superuser-only: name this database, not that one.
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("%s is not available in database \"%s\": the photofactory library belongs to another database",
                           what, get_database_name(MyDatabaseId)),
                    errdetail("Only the database named by photofactory.database keeps the ledger of the inbox and storage."),
                    errhint("Call it in that database.")));
}

}  // namespace pf::pg

// SQL: photofactory._require_library_database(what text), for the SQL
// functions that act on the library.
Datum pf_require_library_database(PG_FUNCTION_ARGS) {
    const char* what = PG_ARGISNULL(0) ? "this function" : text_to_cstring(PG_GETARG_TEXT_PP(0));
    pf::pg::require_library_database(what);
    PG_RETURN_VOID();
}
