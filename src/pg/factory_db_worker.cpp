// factory-db: reports the health of the database and of the storage volume as
// the `factory-db` service, every photofactory.heartbeat_interval.
#include "pg/factory_db_worker.hpp"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "pg/catalog_version.hpp"
#include "pg/gucs.hpp"
#include "pg/pg_headers.hpp"
#include "pg/worker.hpp"

namespace pf::pg {
namespace {

struct Volume {
    bool ok;
    int err;
    double free_bytes;
    double total_bytes;
};

Volume probe_volume(const char* path) {
    Volume v{false, 0, 0, 0};
    struct statvfs sv;
    if (statvfs(path, &sv) != 0) {
        v.err = errno;
        return v;
    }
    v.ok = true;
    v.free_bytes = static_cast<double>(sv.f_bavail) * sv.f_frsize;
    v.total_bytes = static_cast<double>(sv.f_blocks) * sv.f_frsize;
    return v;
}

void human_bytes(double b, char* out, size_t n) {
    const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    int u = 0;
    while (b >= 1024.0 && u < 5) {
        b /= 1024.0;
        u++;
    }
    snprintf(out, n, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
}

struct TickState {
    bool extension_missing;
};

void check_health(void* arg) {
    auto* state = static_cast<TickState*>(arg);
    state->extension_missing = !extension_ready();
    if (state->extension_missing) return;

    // Exact counts are cheap on small ledgers (~1 ms at 20,000 rows); past that
    // the planner's estimate is enough for a dashboard, and keeps every
    // heartbeat's query under a few ms (docs/performance.md).
    int rc = SPI_execute(
        "SELECT pg_catalog.pg_database_size(pg_catalog.current_database()),"
        " CASE WHEN c.reltuples OPERATOR(pg_catalog.<) 20000::pg_catalog.float4"
        "      THEN (SELECT pg_catalog.count(*) FROM photofactory.media_assets)"
        "      ELSE c.reltuples::pg_catalog.int8 END"
        " FROM pg_catalog.pg_class c"
        " WHERE c.oid OPERATOR(pg_catalog.=) 'photofactory.media_assets'::pg_catalog.regclass",
        true, 1);
    if (rc != SPI_OK_SELECT || SPI_processed != 1) elog(ERROR, "database health query failed");
    bool isnull;
    int64 db_bytes = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    int64 assets = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));

    char db_size[32], free_s[32], total_s[32], task[512];
    human_bytes(static_cast<double>(db_bytes), db_size, sizeof db_size);
    const char* status = "OK";
    char storage[384];

    const double min_free = static_cast<double>(guc_min_free_space_mb) * 1024.0 * 1024.0;
    if (guc_storage_dir == nullptr || guc_storage_dir[0] == '\0') {
        status = "WARNING";
        snprintf(storage, sizeof storage, "storage: photofactory.storage_dir is not set");
    } else {
        Volume v = probe_volume(guc_storage_dir);
        if (!v.ok) {
            status = "ERROR";
            snprintf(storage, sizeof storage, "storage %s: %s", guc_storage_dir, strerror(v.err));
        } else {
            human_bytes(v.free_bytes, free_s, sizeof free_s);
            human_bytes(v.total_bytes, total_s, sizeof total_s);
            int pct = v.total_bytes > 0 ? static_cast<int>(100.0 * v.free_bytes / v.total_bytes) : 0;
            bool low = v.free_bytes < min_free;
            if (low) status = "WARNING";
            snprintf(storage, sizeof storage, "storage %s free of %s (%d%%)%s", free_s, total_s, pct,
                     low ? " - LOW" : "");
        }
    }
    // The database's own volume fills up too (WAL, ledger): report it when it is low.
    char dbvol[128] = "";
    Volume dv = probe_volume(DataDir);
    if (dv.ok && dv.free_bytes < min_free) {
        human_bytes(dv.free_bytes, free_s, sizeof free_s);
        snprintf(dbvol, sizeof dbvol, "; data directory volume LOW: %s free", free_s);
        status = "WARNING";
    }
    snprintf(task, sizeof task, "Database check: %s, %lld assets; %s%s", db_size,
             static_cast<long long>(assets), storage, dbvol);
    send_heartbeat("factory-db", status, task);
}

// One batch of a background verification run (photofactory.start_verification),
// reported as the `verifier` service while a run is active.
struct VerifyTick {
    bool active;
};

void verification_step(void* arg) {
    auto* t = static_cast<VerifyTick*>(arg);
    t->active = false;
    int rc = SPI_execute("SELECT photofactory._verification_step(200::pg_catalog.int4)", false, 0);
    if (rc != SPI_OK_SELECT || SPI_processed != 1) elog(ERROR, "verification step failed");
    char* progress = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
    if (progress == nullptr) {
        // Once the service exists, keep it green between runs: a dashboard must
        // not show red for "nothing to do".
        rc = SPI_execute("SELECT 1 FROM photofactory.system_status s"
                         " WHERE s.service_name OPERATOR(pg_catalog.=) 'verifier'::pg_catalog.text", true, 1);
        if (rc == SPI_OK_SELECT && SPI_processed == 1)
            send_heartbeat("verifier", "OK", "Idle: no verification run in progress");
        return;
    }
    t->active = strncmp(progress, "Verifying", 9) == 0;
    send_heartbeat("verifier", "OK", progress);
}

}  // namespace

void factory_db_main() {
    bool announced_wait = false;
    while (!worker_should_exit()) {
        worker_reload_if_pending();
        TickState state{false};
        bool ok = run_in_transaction("factory-db health check", check_health, &state);
        if (ok && state.extension_missing) {
            if (!announced_wait)
                ereport(LOG, (errmsg("photofactory factory-db: %s in database \"%s\"", catalog_wait_reason(),
                                     g_worker.database)));
            announced_wait = true;
            pgstat_report_activity(STATE_IDLE, catalog_wait_reason());
            worker_sleep(5000);  // an extension appears at human speed: poll gently
            continue;
        }
        announced_wait = false;
        // Verification batches run between heartbeats, never delaying one by
        // more than a batch; ingestion runs in the librarians, unaffected.
        TimestampTz next_beat =
            TimestampTzPlusMilliseconds(GetCurrentTimestamp(), static_cast<long>(guc_heartbeat_interval_s) * 1000L);
        VerifyTick vt{true};
        while (vt.active && !worker_should_exit() && GetCurrentTimestamp() < next_beat) {
            if (!run_in_transaction("verifying stored originals", verification_step, &vt)) break;
            CHECK_FOR_INTERRUPTS();
        }
        long left = static_cast<long>((next_beat - GetCurrentTimestamp()) / 1000);
        pgstat_report_activity(STATE_IDLE, "sleeping until the next heartbeat");
        if (left > 0) worker_sleep(left);
    }
    proc_exit(0);
}

}  // namespace pf::pg
