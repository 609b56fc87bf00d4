// photofactory.* configuration parameters. Defined once in _PG_init; read by
// the workers after each SIGHUP.
#pragma once

namespace pf::pg {

extern char* guc_database;            // photofactory.database
extern char* guc_inbox_dir;           // photofactory.inbox_dir
extern char* guc_storage_dir;         // photofactory.storage_dir
extern char* guc_default_timezone;    // photofactory.default_timezone
extern int guc_heartbeat_interval_s;  // photofactory.heartbeat_interval
extern int guc_history_retention_min; // photofactory.history_retention
extern int guc_librarian_workers;     // photofactory.librarian_workers
extern int guc_settle_time_s;         // photofactory.settle_time
extern int guc_sidecar_wait_s;        // photofactory.sidecar_wait
extern int guc_scan_interval_s;       // photofactory.scan_interval
extern int guc_min_free_space_mb;     // photofactory.min_free_space
extern bool guc_ingest_enabled;       // photofactory.ingest_enabled
// Thumbnails (docs/operations.md, "Thumbnails").
extern int guc_thumbnailer_workers;        // photofactory.thumbnailer_workers
extern int guc_thumbnail_size;             // photofactory.thumbnail_size
extern int guc_preview_size;               // photofactory.preview_size
extern int guc_thumbnail_max_megapixels;   // photofactory.thumbnail_max_megapixels
extern int guc_thumbnail_max_decode_mb;    // photofactory.thumbnail_max_decode_memory
extern int guc_thumbnail_max_attempts;     // photofactory.thumbnail_max_attempts
extern int guc_thumbnailer_threads;        // photofactory.thumbnailer_threads
extern int guc_thumbnail_cache_mb;         // photofactory.thumbnail_cache_memory
extern int guc_geocoder_workers;      // photofactory.geocoder_workers
extern double guc_geocoder_max_km;    // photofactory.geocoder_max_km
extern int guc_max_file_size_mb;      // photofactory.max_file_size (0: no limit)
extern int guc_storage_mode;          // photofactory.storage_mode (0: as 0.1.0, umask decides)

// photofactory.max_file_size in bytes (0: no limit).
unsigned long long max_file_size_bytes();
// Modes for what the library gets: folders, and regular files (the folder
// mode without execute bits). 0 when photofactory.storage_mode is 0.
unsigned storage_dir_mode();
unsigned storage_file_mode();
extern int guc_backup_scrub_rate_mb;  // photofactory.backup_scrub_rate (MB/s, 0 = off)
extern int guc_backup_scrub_interval_min;  // photofactory.backup_scrub_interval
extern bool guc_backup_auto_restore;  // photofactory.backup_auto_restore

// Upper bound of photofactory.librarian_workers: shared memory is sized for it.
constexpr int kMaxLibrarians = 16;
// Upper bound of every photofactory.<service>_workers (service_worker.hpp).
constexpr int kMaxServiceWorkers = 8;

void define_gucs();

}  // namespace pf::pg
