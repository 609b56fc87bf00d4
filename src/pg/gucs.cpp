#include "pg/gucs.hpp"

#include "pg/pg_headers.hpp"
#include "pg/dashboard_worker.hpp"
#include "pg/syncthing_check.hpp"

namespace pf::pg {

char* guc_database = nullptr;
char* guc_inbox_dir = nullptr;
char* guc_storage_dir = nullptr;
char* guc_default_timezone = nullptr;
int guc_heartbeat_interval_s = 30;
int guc_history_retention_min = 60 * 24 * 60;
int guc_librarian_workers = 1;
int guc_settle_time_s = 10;
int guc_sidecar_wait_s = 600;
int guc_scan_interval_s = 60;
int guc_min_free_space_mb = 1024;
bool guc_ingest_enabled = true;
int guc_geocoder_workers = 1;
double guc_geocoder_max_km = 30.0;

namespace {

// Directories must be absolute: a relative path would silently resolve against
// the data directory of whichever process reads it.
bool check_absolute_dir(char** newval, void**, GucSource) {
    if (*newval == nullptr || (*newval)[0] == '\0') return true;  // unset: workers idle
    if ((*newval)[0] != '/') {
        GUC_check_errdetail("The path must be absolute.");
        return false;
    }
    return true;
}

bool check_timezone_name(char** newval, void**, GucSource) {
    if (*newval == nullptr || (*newval)[0] == '\0') return true;  // server TimeZone
    if (pg_tzset(*newval) == nullptr) {
        GUC_check_errdetail("Time zone \"%s\" is not known.", *newval);
        return false;
    }
    return true;
}

}  // namespace

void define_gucs() {
    // Paths and the target database decide what files the server process reads
    // and moves: superuser-only, and hidden from ordinary users.
    const int path_flags = GUC_SUPERUSER_ONLY;

    DefineCustomStringVariable(
        "photofactory.database", "Database the photofactory workers connect to.",
        "The extension must be created in this database. Changing it restarts the workers.",
        &guc_database, "postgres", PGC_SIGHUP, path_flags, nullptr, nullptr, nullptr);

    DefineCustomStringVariable(
        "photofactory.inbox_dir", "Folder the librarian ingests from (phones sync into it).",
        "Absolute path. Empty disables ingestion.", &guc_inbox_dir, "", PGC_SIGHUP, path_flags,
        check_absolute_dir, nullptr, nullptr);

    DefineCustomStringVariable(
        "photofactory.storage_dir", "Library root holding Originals/, Duplicates/ and Rejected/.",
        "Absolute path. Empty disables ingestion.", &guc_storage_dir, "", PGC_SIGHUP, path_flags,
        check_absolute_dir, nullptr, nullptr);

    DefineCustomStringVariable(
        "photofactory.default_timezone",
        "Time zone for capture times that are only known in UTC (e.g. video creation times).",
        "Empty means the server's TimeZone setting.", &guc_default_timezone, "", PGC_SIGHUP, 0,
        check_timezone_name, nullptr, nullptr);

    DefineCustomIntVariable(
        "photofactory.heartbeat_interval", "Time between service heartbeats.", nullptr,
        &guc_heartbeat_interval_s, 30, 1, 3600, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);

    DefineCustomIntVariable(
        "photofactory.history_retention", "How long system_status_history rows are kept.",
        "Used by photofactory.cleanup_history() when called without an argument.",
        &guc_history_retention_min, 60 * 24 * 60, 60, INT_MAX, PGC_SIGHUP, GUC_UNIT_MIN, nullptr,
        nullptr, nullptr);

    DefineCustomIntVariable(
        "photofactory.librarian_workers", "Number of librarian (ingest) workers.", nullptr,
        &guc_librarian_workers, 1, 0, kMaxLibrarians, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);

    DefineCustomIntVariable(
        "photofactory.sidecar_wait",
        "How long a sidecar (.xmp, .aae, .json) waits in the inbox for its photo or video.",
        "Syncthing may deliver a small sidecar before its photo; after this wait a sidecar with no photo goes to Rejected/.",
        &guc_sidecar_wait_s, 600, 0, 7 * 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "photofactory.settle_time",
        "How long a file's size and modification time must stay unchanged before it is ingested.",
        nullptr, &guc_settle_time_s, 10, 0, 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);

    DefineCustomIntVariable(
        "photofactory.scan_interval", "Time between full scans of the inbox (safety net for inotify).",
        nullptr, &guc_scan_interval_s, 60, 1, 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);

    DefineCustomIntVariable(
        "photofactory.min_free_space", "Free space on the storage volume below which ingestion warns.",
        nullptr, &guc_min_free_space_mb, 1024, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_MB, nullptr, nullptr,
        nullptr);

    DefineCustomBoolVariable(
        "photofactory.ingest_enabled", "Pauses ingestion when off (workers keep heartbeating).", nullptr,
        &guc_ingest_enabled, true, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);

    DefineCustomIntVariable(
        "photofactory.geocoder_workers", "Number of geocoder workers (0 turns reverse geocoding off).",
        "Each needs a background worker slot (max_worker_processes).", &guc_geocoder_workers, 1, 0,
        kMaxServiceWorkers, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);

    DefineCustomRealVariable(
        "photofactory.geocoder_max_km",
        "Farthest a photo may be from a place and still be named after it.",
        "Beyond it (open sea, Antarctica) a photo is geocoded with an unknown place.", &guc_geocoder_max_km,
        30.0, 0.1, 20100.0, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);

    define_syncthing_gucs();
    define_dashboard_gucs();

    MarkGUCPrefixReserved("photofactory");
}

}  // namespace pf::pg
