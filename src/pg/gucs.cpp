#include "pg/gucs.hpp"

#include "pg/pg_headers.hpp"
#include "pg/dashboard_worker.hpp"
#include "pg/syncthing_check.hpp"

#include <exception>

#include "core/root_guard.hpp"

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
int guc_thumbnailer_workers = 1;
int guc_thumbnail_size = 250;
int guc_preview_size = 1440;
int guc_thumbnail_max_megapixels = 512;
int guc_thumbnail_max_decode_mb = 256;
int guc_thumbnail_max_attempts = 3;
int guc_thumbnailer_threads = 1;
int guc_thumbnail_cache_mb = 16;
int guc_geocoder_workers = 1;
double guc_geocoder_max_km = 30.0;
int guc_max_file_size_mb = 0;
int guc_storage_mode = 0;

unsigned long long max_file_size_bytes() {
    return guc_max_file_size_mb > 0 ? static_cast<unsigned long long>(guc_max_file_size_mb) << 20 : 0;
}
unsigned storage_dir_mode() { return static_cast<unsigned>(guc_storage_mode) & 07777; }
unsigned storage_file_mode() { return storage_dir_mode() & 0666; }
int guc_backup_scrub_rate_mb = 50;
int guc_backup_scrub_interval_min = 7 * 24 * 60;
bool guc_backup_auto_restore = false;

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

// The library inside the inbox (or the reverse) is refused as it is set.
// Only against the other setting's current value: when both change in one
// reload the librarian's own guard (pf::roots_conflict) catches the rest.
bool check_root(char** newval, const char* other, const char* other_name) {
    if (*newval == nullptr || (*newval)[0] == '\0' || other == nullptr || other[0] == '\0') return true;
    bool overlap = true;
    try {
        overlap = pf::paths_overlap(*newval, other);
    } catch (...) {
        GUC_check_errdetail("Out of memory while comparing folders.");
        return false;
    }
    if (overlap) {
        GUC_check_errdetail("It overlaps %s (\"%s\"): the inbox and the library must be separate folders, neither "
                            "inside the other.", other_name, other);
        return false;
    }
    return true;
}

bool check_inbox_dir(char** newval, void** extra, GucSource source) {
    return check_absolute_dir(newval, extra, source) && check_root(newval, guc_storage_dir, "photofactory.storage_dir");
}

bool check_storage_dir(char** newval, void** extra, GucSource source) {
    return check_absolute_dir(newval, extra, source) && check_root(newval, guc_inbox_dir, "photofactory.inbox_dir");
}

bool check_timezone_name(char** newval, void**, GucSource) {
    if (*newval == nullptr || (*newval)[0] == '\0') return true;  // server TimeZone
    if (pg_tzset(*newval) == nullptr) {
        GUC_check_errdetail("Time zone \"%s\" is not known.", *newval);
        return false;
    }
    return true;
}

// Shown in octal, like unix_socket_permissions.
const char* show_storage_mode() {
    static char buf[12];
    snprintf(buf, sizeof buf, "%04o", guc_storage_mode);
    return buf;
}

// A library folder the server itself cannot enter and write would stop ingestion.
bool check_storage_mode(int* newval, void**, GucSource) {
    if (*newval != 0 && (*newval & 0700) != 0700) {
        GUC_check_errdetail("The owner (the server's user) needs rwx: use e.g. 0700, 0750 or 0755.");
        return false;
    }
    return true;
}

// Immich's sizes as defaults; limits sized so that one thumbnailer stays
// under 256 MB (docs/operations.md, "Thumbnails").
void define_thumbnail_gucs() {
    DefineCustomIntVariable(
        "photofactory.thumbnailer_workers", "Number of thumbnailer workers (0 turns thumbnailing off).", nullptr,
        &guc_thumbnailer_workers, 1, 0, kMaxServiceWorkers, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "photofactory.thumbnail_size", "Longest side of the WebP thumbnail, in pixels.",
        "Existing renditions keep their size until photofactory.rethumbnail_all().", &guc_thumbnail_size, 250, 16,
        4096, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "photofactory.preview_size", "Longest side of the JPEG preview, in pixels.",
        "Existing renditions keep their size until photofactory.rethumbnail_all().", &guc_preview_size, 1440, 64,
        8192, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "photofactory.thumbnail_max_megapixels",
        "Images (and video frames) declaring more pixels than this are refused, not decoded.",
        "Checked from the file's header: protects against decompression bombs.", &guc_thumbnail_max_megapixels,
        512, 1, 100000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "photofactory.thumbnail_max_decode_memory",
        "Memory a whole-image decoder may need (HEIC, interlaced PNG, progressive JPEG, GIF) before the image is refused.",
        nullptr, &guc_thumbnail_max_decode_mb, 256, 16, 65536, PGC_SIGHUP, GUC_UNIT_MB, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "photofactory.thumbnail_max_attempts",
        "How often the thumbnailer tries an asset that fails before it gives up (photofactory.rethumbnail() retries).",
        nullptr, &guc_thumbnail_max_attempts, 3, 1, 100, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "photofactory.thumbnailer_threads", "libvips worker threads per thumbnailer.", nullptr,
        &guc_thumbnailer_threads, 1, 1, 64, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "photofactory.thumbnail_cache_memory", "Memory bound of libvips' operation cache per thumbnailer.", nullptr,
        &guc_thumbnail_cache_mb, 16, 0, 4096, PGC_SIGHUP, GUC_UNIT_MB, nullptr, nullptr, nullptr);
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
        check_inbox_dir, nullptr, nullptr);

    DefineCustomStringVariable(
        "photofactory.storage_dir", "Library root holding Originals/, Duplicates/ and Rejected/.",
        "Absolute path. Empty disables ingestion.", &guc_storage_dir, "", PGC_SIGHUP, path_flags,
        check_storage_dir, nullptr, nullptr);

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

    DefineCustomIntVariable(
        "photofactory.max_file_size", "Files larger than this are not read but moved to Rejected/ (reason too_large).",
        "Bounds the work one file can cause (a huge or sparse file). 0 means no limit.", &guc_max_file_size_mb, 0, 0,
        INT_MAX, PGC_SIGHUP, GUC_UNIT_MB, nullptr, nullptr, nullptr);

    DefineCustomIntVariable(
        "photofactory.storage_mode",
        "Permissions of the folders the librarian and the thumbnailer create in the library; stored files and "
        "renditions get the same without x bits.",
        "Octal, e.g. 0750 (folders rwxr-x---, files rw-r-----) so a group can read the library. "
        "0 keeps 0.1.0's behaviour: folders 0750 minus the server's umask (0700), files keep their mode.",
        &guc_storage_mode, 0, 0, 07777, PGC_SIGHUP, 0, check_storage_mode, nullptr, show_storage_mode);

    DefineCustomIntVariable(
        "photofactory.backup_scrub_rate",
        "Upper bound of the backup scrub's reading rate, in MB per second per worker (0: no scrub).",
        "The scrub re-reads every copy on every backup target; this keeps its I/O from starving ingestion.",
        &guc_backup_scrub_rate_mb, 50, 0, 100000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "photofactory.backup_scrub_interval",
        "Time from the end of one scrub pass of a backup target to the start of the next.",
        "photofactory.start_backup_scrub() asks for a pass sooner.", &guc_backup_scrub_interval_min,
        7 * 24 * 60, 1, INT_MAX, PGC_SIGHUP, GUC_UNIT_MIN, nullptr, nullptr, nullptr);

    DefineCustomBoolVariable(
        "photofactory.backup_auto_restore",
        "Restore originals found missing or corrupt from a verified backup copy automatically.",
        "Off: only photofactory.restore_original()/restore_all() restore. A corrupt original is moved to Storage/Corrupt/ first.",
        &guc_backup_auto_restore, false, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    define_thumbnail_gucs();
    define_syncthing_gucs();
    define_dashboard_gucs();

    MarkGUCPrefixReserved("photofactory");
}

}  // namespace pf::pg
