// SQL functions that drive the librarians: ingest_now(), ingest_file(path)
// and the data behind inbox_report().
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "core/inbox_report.hpp"
#include "core/json_writer.hpp"
#include "pg/boundary.hpp"
#include "pg/catalog_version.hpp"
#include "pg/gucs.hpp"
#include "pg/library_database.hpp"
#include "pg/pg_headers.hpp"
#include "pg/shared_state.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(pf_ingest_now);
PG_FUNCTION_INFO_V1(pf_ingest_file_json);
PG_FUNCTION_INFO_V1(pf_inbox_report_json);
}

using namespace pf::pg;

namespace {

void require_shared_memory() {
    if (g_shared == nullptr)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("photofactory is not loaded via shared_preload_libraries")));
}

bool any_librarian_running() {
    bool any = false;
    LWLockAcquire(g_shared->lock, LW_SHARED);
    for (int i = 0; i < kMaxLibrarians; i++) any = any || g_shared->librarian_latch[i] != nullptr;
    LWLockRelease(g_shared->lock);
    return any;
}

void abandon_at_exit(int, Datum slot) {
    abandon_ingest_request(DatumGetInt32(slot));
}

Datum json_datum(const char* json) {
    return DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
}

}  // namespace

// Wakes every librarian for an immediate scan; returns how many were woken.
Datum pf_ingest_now(PG_FUNCTION_ARGS) {
    require_catalog_version("photofactory.ingest_now()");
    require_library_database("photofactory.ingest_now()");
    require_shared_memory();
    int n = wake_librarians();
    if (n == 0)
        ereport(NOTICE, (errmsg("no librarian is running"),
                         errhint("Check photofactory.librarian_workers, photofactory.database and the server log.")));
    PG_RETURN_INT32(n);
}

// Hands one inbox path to a librarian and waits for the outcome. The file is
// taken as complete (no settle wait) but otherwise goes through exactly the
// same crash-safe protocol as files found by a scan.
Datum pf_ingest_file_json(PG_FUNCTION_ARGS) {
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("path must not be NULL")));
    require_library_database("photofactory.ingest_file()");
    char* path = text_to_cstring(PG_GETARG_TEXT_PP(0));
    if (path[0] != '/')
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("path must be absolute: \"%s\"", path)));
    if (strlen(path) >= MAXPGPATH)
        ereport(ERROR, (errcode(ERRCODE_NAME_TOO_LONG), errmsg("path is too long")));
    // Librarians wait while the catalog is older than the library: without
    // this, the call would wait for them forever.
    require_catalog_version("photofactory.ingest_file()");
    require_shared_memory();
    if (!any_librarian_running())
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("no librarian is running"),
                        errhint("photofactory.librarian_workers must be at least 1, and the extension must exist in photofactory.database.")));

    int slot = queue_ingest_request(path);
    if (slot < 0)
        ereport(ERROR, (errcode(ERRCODE_TOO_MANY_CONNECTIONS), errmsg("too many ingest_file() calls in progress"),
                        errhint("Try again in a moment.")));
    wake_librarians();

    IngestRequest result;
    RequestPoll poll = RequestPoll::Waiting;
    // Cancelled (ERROR) or terminated (FATAL, which never reaches a PG_CATCH)
    // while the librarian works: it finishes the file anyway and frees the
    // slot; the outcome is in inbox_events.
    PG_ENSURE_ERROR_CLEANUP(abandon_at_exit, Int32GetDatum(slot));
    {
        while ((poll = poll_ingest_request(slot, &result)) == RequestPoll::Waiting) {
            (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1000L, PG_WAIT_EXTENSION);
            ResetLatch(MyLatch);
            CHECK_FOR_INTERRUPTS();
        }
    }
    PG_END_ENSURE_ERROR_CLEANUP(abandon_at_exit, Int32GetDatum(slot));

    if (poll == RequestPoll::Lost || strcmp(result.result, "lost") == 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("the librarian handling \"%s\" exited before finishing it", path),
                        errhint("The file's outcome, if any, is in photofactory.inbox_events; call ingest_file() again.")));

    if (strcmp(result.result, "refused") == 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("cannot ingest \"%s\": %s", path, result.reason)));

    char* json = pf_core_call_cstring("ingest_file", [&]() {
        pf::JsonObject o;
        o.add("outcome", result.result);
        if (result.asset_id[0]) o.add("asset_id", result.asset_id); else o.add_null("asset_id");
        if (result.stored_path[0]) o.add("stored_path", result.stored_path); else o.add_null("stored_path");
        if (result.reason[0]) o.add("reason", result.reason); else o.add_null("reason");
        return o.str();
    });
    PG_RETURN_DATUM(json_datum(json));
}

Datum pf_inbox_report_json(PG_FUNCTION_ARGS) {
    require_library_database("photofactory.inbox_report()");
    if (guc_inbox_dir == nullptr || guc_inbox_dir[0] == '\0')
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("photofactory.inbox_dir is not set")));
    int fd = OpenTransientFile(guc_inbox_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) ereport(ERROR, (errcode_for_file_access(), errmsg("could not open inbox \"%s\": %m", guc_inbox_dir)));
    int settle = guc_settle_time_s;
    unsigned long long max_bytes = max_file_size_bytes();
    char* json = pf_core_call_cstring("inbox_report", [&]() { return pf::inbox_report_json(fd, settle, max_bytes); });
    CloseTransientFile(fd);
    PG_RETURN_DATUM(json_datum(json));
}
