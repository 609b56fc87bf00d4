// backup: copies every stored original and its sidecars to every enabled
// backup target with the verified protocol of src/core/backup_copy.hpp, and
// scrubs the copies, as the `backup` service (docs/operations.md, "Backup").
//
// One round: read the enabled targets; open each and check its marker
// (outside any transaction); then one transaction claims a batch of assets
// (FOR UPDATE SKIP LOCKED), copies the files each usable target lacks,
// records every verified copy and marks the complete assets. A crash anywhere
// loses at most the batch's bookkeeping: a copy already renamed into place is
// found again, verified, and recorded on the next round ("already present");
// temporaries are removed when the worker starts and whenever a target comes
// back. With no copy work, one scrub batch of one target runs instead.
//
// The frames here are C-style (PostgreSQL errors longjmp through them): C++
// work happens only inside the noexcept helpers, which keep no object alive
// past their return.
//
// This file holds the round and the ServiceDef, and the state and SQL helper
// its parts share (backup_state.hpp). The parts: backup_targets.cpp (reading
// and probing the targets), backup_copy_batch.cpp (claim, copy, record),
// backup_restore.cpp, backup_scrub.cpp.
#include "pg/catalog_version.hpp"
#include "pg/backup_worker.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "core/block_pool.hpp"
#include "pg/backup_state.hpp"
#include "pg/gucs.hpp"
#include "pg/pg_headers.hpp"
#include "pg/service_worker.hpp"
#include "pg/worker.hpp"

namespace pf::pg {
namespace backup {

Target g_targets[kMaxTargets];
int g_ntargets = 0;
bool g_any_target_row = false;
bool g_storage_cleaned = false;
int g_scrub_rr = 0;  // round-robin over targets for the scrub

void exec_args(const char* sql, int n, const char* const* vals, const char* what) {
    Oid types[8];
    Datum values[8];
    char nulls[8] = {};  // callers' n is not visible here (-Wmaybe-uninitialized)
    for (int i = 0; i < n; i++) {
        types[i] = TEXTOID;
        values[i] = vals[i] ? CStringGetTextDatum(vals[i]) : (Datum)0;
        nulls[i] = vals[i] ? ' ' : 'n';
    }
    int rc = SPI_execute_with_args(sql, n, types, values, nulls, false, 0);
    if (rc < 0) elog(ERROR, "%s failed: %s", what, SPI_result_code_string(rc));
}

}  // namespace backup

namespace {

using namespace backup;

void pending_count(void* arg) {
    auto* out = static_cast<int64*>(arg);
    int rc = SPI_execute("SELECT count(*) FROM photofactory.media_assets WHERE is_ingested AND NOT is_backed_up",
                         true, 1);
    if (rc != SPI_OK_SELECT || SPI_processed != 1) elog(ERROR, "pending count failed");
    bool isnull;
    *out = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

// One round of the backup service (the worker template's rounds shape): read
// the targets, copy a batch, else restore and scrub; say what happened.
void backup_round(ServiceRound* out) {
    static char scrub_note[512] = "";
    out->activity = "waiting for assets to back up";
    out->sleep_ms = kIdleMs;
    LoadState ls{false};
    if (!run_in_transaction("reading backup targets", load_targets, &ls)) {
        out->silent = true;
        return;
    }
    if (ls.extension_missing) {
        out->no_extension = true;
        return;
    }
    if (g_ntargets == 0) {
        // Off: no heartbeat at all until a target was ever configured.
        long beat_ms = static_cast<long>(guc_heartbeat_interval_s) * 1000L;
        snprintf(out->status, sizeof out->status, "OK");
        snprintf(out->task, sizeof out->task, "Off: no backup target enabled");
        out->silent = !g_any_target_row;
        out->activity = "off: no backup target enabled";
        out->sleep_ms = beat_ms < 5000 ? beat_ms : 5000;
        return;
    }

    if (!g_storage_cleaned) {
        int n = clean_storage();
        if (n > 0) ereport(LOG, (errmsg("photofactory backup: removed %d temporaries of interrupted restores", n)));
        g_storage_cleaned = true;
    }
    probe_targets();
    Round r;
    memset(&r, 0, sizeof r);
    r.storage_fd = (guc_storage_dir && guc_storage_dir[0]) ? open(guc_storage_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    bool ok = run_in_transaction("backing up assets", copy_batch, &r);
    if (r.storage_fd >= 0) close(r.storage_fd);
    bool busy = ok && r.claimed_rows > 0 && (r.files_copied + r.files_found + r.problems) > 0;

    // Opt-in self-healing before the scrub: originals found missing or corrupt come back.
    if (!busy && ok && guc_backup_auto_restore) {
        int restored = 0;
        if (run_in_transaction("restoring originals from backup", auto_restore, &restored) && restored > 0)
            ereport(LOG, (errmsg("photofactory backup: restored %d originals from backup copies", restored)));
    }
    ScrubRound sr;
    memset(&sr, 0, sizeof sr);
    if (!busy && ok && !worker_should_exit()) {
        run_in_transaction("scrubbing backup copies", scrub_batch, &sr);
        if (sr.progress[0]) snprintf(scrub_note, sizeof scrub_note, "%s", sr.progress);
    }
    close_targets();
    if (!busy && !sr.did_work) pf::release_idle_blocks();  // idle: the copy's buffers go back

    int64 pending = 0;
    run_in_transaction("counting pending backups", pending_count, &pending);
    bool warn = false;
    char targets_line[768] = "";
    append_targets(targets_line, sizeof targets_line, &warn);
    char* task = out->task;
    size_t len = sizeof out->task;
    if (busy)
        snprintf(task, len, "Backing up: %d files copied (%lld bytes), %lld assets pending; targets: %s",
                 r.files_copied, static_cast<long long>(r.bytes), static_cast<long long>(pending), targets_line);
    else if (sr.did_work)
        snprintf(task, len, "%s; %lld assets pending; targets: %s", sr.progress, static_cast<long long>(pending),
                 targets_line);
    else
        snprintf(task, len, "Idle: %lld assets pending%s%s; targets: %s", static_cast<long long>(pending),
                 scrub_note[0] ? "; " : "", scrub_note, targets_line);
    snprintf(out->status, sizeof out->status, "%s", warn ? "WARNING" : "OK");
    // While copying or scrubbing the numbers change every round: only when due.
    out->report_change = (!busy && !sr.did_work) || warn;
    if (busy || sr.did_work) out->sleep_ms = 0;
}

}  // namespace

const ServiceDef kBackupService = [] {
    ServiceDef d{};
    d.name = "backup";
    d.kind = WorkerKind::Backup;
    d.workers = nullptr;  // always one; it stays silent while no target exists
    d.max_workers = 1;
    d.round = backup_round;
    return d;
}();

}  // namespace pf::pg
