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
extern int guc_geocoder_workers;      // photofactory.geocoder_workers
extern double guc_geocoder_max_km;    // photofactory.geocoder_max_km

// Upper bound of photofactory.librarian_workers: shared memory is sized for it.
constexpr int kMaxLibrarians = 16;
// Upper bound of every photofactory.<service>_workers (service_worker.hpp).
constexpr int kMaxServiceWorkers = 8;

void define_gucs();

}  // namespace pf::pg
