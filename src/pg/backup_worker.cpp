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
#include "pg/catalog_version.hpp"
#include "pg/backup_worker.hpp"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/backup_copy.hpp"
#include "core/backup_target.hpp"
#include "pg/gucs.hpp"
#include "pg/pg_headers.hpp"
#include "pg/service_worker.hpp"
#include "pg/worker.hpp"

namespace pf::pg {
namespace {

constexpr int kMaxTargets = 32;
constexpr int kBatchAssets = 20;
constexpr int kScrubBatch = 50;
constexpr long kIdleMs = 2000;
constexpr long kPauseRetryMs = 10000;
constexpr long kBatchMs = 3000;
constexpr int64 kBatchBytes = 256LL * 1024 * 1024;  // per target and batch  // copying time after which a batch commits what it has

struct Target {
    char id[40];
    char name[64];
    char path[MAXPGPATH];
    int fd;                   // open root while usable this round, else -1
    bool usable;
    bool paused;              // a write failed (ENOSPC, EROFS, EIO...): retried after paused_until
    TimestampTz paused_until;
    bool cleaned;             // our temporaries removed since it became usable
    int removed;              // temporaries removed this round (for the audit)
    char state[16];           // what we tell backup_targets: ok, skipped, paused
    char detail[512];
};

Target g_targets[kMaxTargets];
int g_ntargets = 0;
bool g_any_target_row = false;
bool g_storage_cleaned = false;
int g_scrub_rr = 0;  // round-robin over targets for the scrub

// --- C++ helpers (noexcept: nothing thrown crosses into PostgreSQL frames) ---

struct CopyCall {
    int src_root;
    const char* src_rel;
    int dst_root;
    const char* dst_rel;
    const char* sha;
    bool heal;
    int outcome;  // CopyOutcome, or -1 target error, -2 other error
    int err;
    uint64 bytes;
    char final_rel[MAXPGPATH];
    char detail[1024];
};

void do_copy(CopyCall* c) noexcept {
    c->outcome = -2;
    c->err = 0;
    c->bytes = 0;
    c->final_rel[0] = c->detail[0] = '\0';
    try {
        pf::CopyResult r = c->heal ? pf::replace_bad_copy(c->src_root, c->src_rel, c->dst_root, c->dst_rel, c->sha)
                                   : pf::copy_verified_file(c->src_root, c->src_rel, c->dst_root, c->dst_rel, c->sha, true);
        c->outcome = static_cast<int>(r.outcome);
        c->bytes = r.bytes;
        snprintf(c->final_rel, sizeof c->final_rel, "%s", r.final_rel.c_str());
        snprintf(c->detail, sizeof c->detail, "%s", r.detail.c_str());
    } catch (const pf::TargetIoError& e) {
        c->outcome = -1;
        c->err = e.err;
        snprintf(c->detail, sizeof c->detail, "%s", e.what());
    } catch (const std::exception& e) {
        snprintf(c->detail, sizeof c->detail, "%s", e.what());
    } catch (...) {
        snprintf(c->detail, sizeof c->detail, "unknown error");
    }
}

// The batched protocol (pf::BackupBatch) for the rows of one target: one
// flush of its filesystem for them all. outcome -3: not done (a target error:
// *err set); -4: an unexpected error, redo these rows one by one.
struct PreRow {
    int outcome;
    uint64 bytes;
    char final_rel[MAXPGPATH];
    char detail[512];
};

void do_batch(int src_root, int dst_root, int n, const char* const* rels, const char* const* shas, PreRow* const* out,
              int* err, char* errmsg, size_t errlen) noexcept {
    *err = 0;
    errmsg[0] = '\0';
    int fail = 0;
    try {
        pf::BackupBatch b(dst_root);
        std::vector<size_t> idx;
        for (int i = 0; i < n; i++) idx.push_back(b.stage(src_root, rels[i], rels[i], shas[i]));
        b.finish();
        for (int i = 0; i < n; i++) {
            const pf::CopyResult& r = b.result(idx[static_cast<size_t>(i)]);
            out[i]->outcome = static_cast<int>(r.outcome);
            out[i]->bytes = r.bytes;
            snprintf(out[i]->final_rel, sizeof out[i]->final_rel, "%s", r.final_rel.c_str());
            snprintf(out[i]->detail, sizeof out[i]->detail, "%s", r.detail.c_str());
        }
        return;
    } catch (const pf::TargetIoError& e) {
        *err = e.err != 0 ? e.err : EIO;
        snprintf(errmsg, errlen, "%s", e.what());
        fail = -3;
    } catch (const std::exception& e) {
        snprintf(errmsg, errlen, "%s", e.what());
        fail = -4;
    } catch (...) {
        snprintf(errmsg, errlen, "unknown error");
        fail = -4;
    }
    for (int i = 0; i < n; i++) out[i]->outcome = fail;
}

void open_target(Target* t) noexcept {
    t->fd = -1;
    t->usable = false;
    try {
        pf::MarkerCheck mc;
        t->fd = pf::open_backup_target(t->path, t->id, &mc);
        if (t->fd < 0) {
            snprintf(t->state, sizeof t->state, "skipped");
            snprintf(t->detail, sizeof t->detail, "%s: %s", pf::to_string(mc.state), mc.detail.c_str());
            t->cleaned = false;
            return;
        }
        t->usable = true;
        snprintf(t->state, sizeof t->state, "ok");
        t->detail[0] = '\0';
        if (!t->cleaned) {
            t->removed = pf::remove_backup_temporaries(t->fd);
            t->cleaned = true;
        }
    } catch (const std::exception& e) {
        if (t->fd >= 0) close(t->fd);
        t->fd = -1;
        t->usable = false;
        snprintf(t->state, sizeof t->state, "skipped");
        snprintf(t->detail, sizeof t->detail, "%s", e.what());
    } catch (...) {
        t->usable = false;
    }
}

int clean_storage() noexcept {
    if (guc_storage_dir == nullptr || guc_storage_dir[0] == '\0') return 0;
    int fd = open(guc_storage_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return 0;
    int n = 0;
    try {
        n = pf::remove_backup_temporaries(fd);
    } catch (...) {
    }
    close(fd);
    return n;
}

struct ScrubCall {
    int root;
    const char* rel;
    const char* sha;
    double rate_bytes_s;  // 0: unbounded
    int state;            // CopyState
    uint64 bytes;
    char detail[1024];
};

void do_verify(ScrubCall* c) noexcept {
    c->state = static_cast<int>(pf::CopyState::Unreadable);
    c->bytes = 0;
    c->detail[0] = '\0';
    try {
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        uint64 done = 0;
        double rate = c->rate_bytes_s;
        // Sleeps so that the bytes read so far never run ahead of the rate.
        auto throttle = [&](size_t n) {
            done += n;
            if (rate <= 0) return;
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            double elapsed = (now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
            double ahead = static_cast<double>(done) / rate - elapsed;
            if (ahead > 0) usleep(static_cast<useconds_t>(ahead * 1e6));
        };
        pf::CopyCheck r = pf::verify_copy(c->root, c->rel, c->sha, throttle);
        c->state = static_cast<int>(r.state);
        c->bytes = r.bytes;
        snprintf(c->detail, sizeof c->detail, "%s", r.detail.c_str());
    } catch (const std::exception& e) {
        snprintf(c->detail, sizeof c->detail, "%s", e.what());
    } catch (...) {
    }
}

// --- PostgreSQL side ---

Target* find_target(const char* id) {
    for (int i = 0; i < g_ntargets; i++)
        if (strcmp(g_targets[i].id, id) == 0) return &g_targets[i];
    return nullptr;
}

struct LoadState {
    bool extension_missing;
};

void load_targets(void* arg) {
    auto* st = static_cast<LoadState*>(arg);
    st->extension_missing = !extension_ready();
    if (st->extension_missing) return;
    int rc = SPI_execute(
        "SELECT t.id::pg_catalog.text, t.name, t.path FROM photofactory.backup_targets t"
        " WHERE t.enabled ORDER BY t.name",
        true, kMaxTargets);
    if (rc != SPI_OK_SELECT) elog(ERROR, "reading backup targets failed");
    // Keep what we know of targets that stay (pause, clean-up) across rounds.
    static Target fresh[kMaxTargets];
    int n = 0;
    for (uint64 i = 0; i < SPI_processed && n < kMaxTargets; i++) {
        HeapTuple tup = SPI_tuptable->vals[i];
        TupleDesc td = SPI_tuptable->tupdesc;
        char* id = SPI_getvalue(tup, td, 1);
        Target* old = find_target(id);
        Target* t = &fresh[n++];
        if (old != nullptr) *t = *old;
        else memset(t, 0, sizeof *t);
        snprintf(t->id, sizeof t->id, "%s", id);
        snprintf(t->name, sizeof t->name, "%s", SPI_getvalue(tup, td, 2));
        snprintf(t->path, sizeof t->path, "%s", SPI_getvalue(tup, td, 3));
        t->fd = -1;
    }
    for (int i = 0; i < g_ntargets; i++)
        if (g_targets[i].fd >= 0) close(g_targets[i].fd);
    memcpy(g_targets, fresh, sizeof(Target) * n);
    g_ntargets = n;
    rc = SPI_execute("SELECT 1 FROM photofactory.backup_targets LIMIT 1", true, 1);
    g_any_target_row = rc == SPI_OK_SELECT && SPI_processed > 0;
}

void close_targets() {
    for (int i = 0; i < g_ntargets; i++) {
        if (g_targets[i].fd >= 0) close(g_targets[i].fd);
        g_targets[i].fd = -1;
        g_targets[i].usable = false;
    }
}

void probe_targets() {
    TimestampTz now = GetCurrentTimestamp();
    for (int i = 0; i < g_ntargets; i++) {
        Target* t = &g_targets[i];
        t->removed = 0;
        if (t->paused && now < t->paused_until) {
            t->usable = false;
            continue;
        }
        bool was_paused = t->paused;
        char why[512];
        snprintf(why, sizeof why, "%s", t->detail);
        open_target(t);
        if (t->usable && was_paused) {
            // Retried, but still paused until a copy succeeds (no ok/paused
            // flapping in the audit trail while the disk stays full).
            snprintf(t->state, sizeof t->state, "paused");
            snprintf(t->detail, sizeof t->detail, "%s", why);
        } else {
            t->paused = false;
        }
    }
}

void pause_target(Target* t, const char* why) {
    t->paused = true;
    t->paused_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), kPauseRetryMs);
    t->usable = false;
    if (t->fd >= 0) close(t->fd);
    t->fd = -1;
    snprintf(t->state, sizeof t->state, "paused");
    snprintf(t->detail, sizeof t->detail, "%s", why);
}

void exec_args(const char* sql, int n, const char* const* vals, const char* what) {
    Oid types[8];
    Datum values[8];
    char nulls[8];
    for (int i = 0; i < n; i++) {
        types[i] = TEXTOID;
        values[i] = vals[i] ? CStringGetTextDatum(vals[i]) : (Datum)0;
        nulls[i] = vals[i] ? ' ' : 'n';
    }
    int rc = SPI_execute_with_args(sql, n, types, values, nulls, false, 0);
    if (rc < 0) elog(ERROR, "%s failed: %s", what, SPI_result_code_string(rc));
}

void write_target_states() {
    for (int i = 0; i < g_ntargets; i++) {
        Target* t = &g_targets[i];
        const char* v[3] = {t->id, t->state, t->detail[0] ? t->detail : nullptr};
        exec_args("SELECT photofactory._backup_target_state($1::pg_catalog.uuid, $2, $3)", 3, v, "target state");
        if (t->removed > 0) {
            char d[64];
            snprintf(d, sizeof d, "%d temporaries of an interrupted copy removed", t->removed);
            const char* w[3] = {t->id, "temporaries_removed", d};
            exec_args("SELECT photofactory._backup_note($1::pg_catalog.uuid, $2, $3)", 3, w, "backup note");
            t->removed = 0;
        }
    }
}

void mark_resumed(Target* t) {
    t->paused = false;
    snprintf(t->state, sizeof t->state, "ok");
    t->detail[0] = '\0';
    const char* v[3] = {t->id, "ok", nullptr};
    exec_args("SELECT photofactory._backup_target_state($1::pg_catalog.uuid, $2, $3)", 3, v, "target state");
}

struct Round {
    int storage_fd;
    int files_copied;
    int files_found;
    int64 bytes;
    int problems;
    int claimed_rows;
    char status[16];
    char task[1024];
};

void append_targets(char* buf, size_t len, bool* warn) {
    size_t used = strlen(buf);
    for (int i = 0; i < g_ntargets && used + 1 < len; i++) {
        Target* t = &g_targets[i];
        if (strcmp(t->state, "ok") == 0)
            snprintf(buf + used, len - used, "%s%s ok", i ? ", " : "", t->name);
        else {
            snprintf(buf + used, len - used, "%s%s %s (%s)", i ? ", " : "", t->name,
                     strcmp(t->state, "paused") == 0 ? "PAUSED" : "SKIPPED", t->detail);
            *warn = true;
        }
        used = strlen(buf);
    }
}

// One batch: claim, copy to every usable target, record, mark.
void copy_batch(void* arg) {
    auto* r = static_cast<Round*>(arg);
    write_target_states();
    char ids[kMaxTargets * 40 + 4] = "{";
    int usable = 0;
    for (int i = 0; i < g_ntargets; i++)
        if (g_targets[i].usable) {
            strcat(ids, usable ? "," : "");
            strcat(ids, g_targets[i].id);
            usable++;
        }
    strcat(ids, "}");
    if (usable == 0 || r->storage_fd < 0) return;
    char limit[16];
    snprintf(limit, sizeof limit, "%d", kBatchAssets);
    const char* v[2] = {ids, limit};
    exec_args("SELECT c.asset_id::pg_catalog.text, c.sidecar_id::pg_catalog.text, c.target_id::pg_catalog.text,"
              " c.src_rel, c.file_hash, c.size_bytes::pg_catalog.text, c.copy_status, c.copy_rel"
              " FROM photofactory._backup_claim($1::pg_catalog.uuid[], $2::pg_catalog.int4) AS c",
              2, v, "claiming assets to back up");
    SPITupleTable* tt = SPI_tuptable;
    uint64 n = SPI_processed;
    r->claimed_rows = static_cast<int>(n);
    if (n == 0) {
        for (int i = 0; i < g_ntargets; i++)
            if (g_targets[i].usable && g_targets[i].paused) mark_resumed(&g_targets[i]);
        return;
    }
    // New copies go through one BackupBatch per target (one flush for all),
    // at most kBatchBytes each; copies to heal are replaced one by one below.
    auto* pre = static_cast<PreRow*>(palloc0(sizeof(PreRow) * n));
    auto* heal = static_cast<bool*>(palloc0(sizeof(bool) * n));
    auto* rels = static_cast<const char**>(palloc0(sizeof(char*) * n));
    auto* shas = static_cast<const char**>(palloc0(sizeof(char*) * n));
    auto* outs = static_cast<PreRow**>(palloc0(sizeof(PreRow*) * n));
    for (uint64 i = 0; i < n; i++) {
        pre[i].outcome = -3;
        heal[i] = SPI_getvalue(tt->vals[i], tt->tupdesc, 7) != nullptr && SPI_getvalue(tt->vals[i], tt->tupdesc, 8) != nullptr;
    }
    for (int k = 0; k < g_ntargets; k++) {
        Target* t = &g_targets[k];
        if (!t->usable) continue;
        int m = 0;
        int64 bytes = 0;
        for (uint64 i = 0; i < n; i++) {
            if (heal[i] || strcmp(SPI_getvalue(tt->vals[i], tt->tupdesc, 3), t->id) != 0) continue;
            int64 size = strtoll(SPI_getvalue(tt->vals[i], tt->tupdesc, 6), nullptr, 10);
            if (m > 0 && bytes + size > kBatchBytes) break;  // the rest waits for the next round
            bytes += size;
            rels[m] = SPI_getvalue(tt->vals[i], tt->tupdesc, 4);
            shas[m] = SPI_getvalue(tt->vals[i], tt->tupdesc, 5);
            outs[m] = &pre[i];
            m++;
        }
        if (m == 0) continue;
        int err = 0;
        char why[512];
        pgstat_report_activity(STATE_RUNNING, "copying to a backup target");
        do_batch(r->storage_fd, t->fd, m, rels, shas, outs, &err, why, sizeof why);
        CHECK_FOR_INTERRUPTS();
        if (err != 0) {
            ereport(WARNING, (errmsg("photofactory backup: target \"%s\" paused: %s", t->name, why)));
            pause_target(t, why);
            const char* w[3] = {t->id, "paused", t->detail};
            exec_args("SELECT photofactory._backup_target_state($1::pg_catalog.uuid, $2, $3)", 3, w, "target state");
        } else if (outs[0]->outcome == -4) {
            ereport(LOG, (errmsg("photofactory backup: batch to \"%s\" failed (%s); copying one by one", t->name,
                                 why)));
        }
    }

    StringInfoData claimed;
    initStringInfo(&claimed);
    appendStringInfoChar(&claimed, '{');
    char* failed_asset = nullptr;  // an asset whose original is bad: its other rows are skipped
    static CopyCall call;
    // The claimed rows stay locked until the batch commits: a batch of big
    // videos stops early (the rest is claimed again next round), so that
    // nobody waits on these rows for long.
    TimestampTz started = GetCurrentTimestamp();
    for (uint64 i = 0; i < n; i++) {
        HeapTuple tup = tt->vals[i];
        TupleDesc td = tt->tupdesc;
        char* asset = SPI_getvalue(tup, td, 1);
        char* sidecar = SPI_getvalue(tup, td, 2);
        char* target_id = SPI_getvalue(tup, td, 3);
        char* src_rel = SPI_getvalue(tup, td, 4);
        char* sha = SPI_getvalue(tup, td, 5);
        char* size = SPI_getvalue(tup, td, 6);
        char* copy_status = SPI_getvalue(tup, td, 7);
        char* copy_rel = SPI_getvalue(tup, td, 8);
        if (strstr(claimed.data, asset) == nullptr) {
            if (claimed.len > 1) appendStringInfoChar(&claimed, ',');
            appendStringInfoString(&claimed, asset);
        }
        if (failed_asset != nullptr && strcmp(failed_asset, asset) == 0) continue;
        Target* t = find_target(target_id);
        if (t == nullptr || !t->usable) continue;
        CHECK_FOR_INTERRUPTS();
        call.src_root = r->storage_fd;
        call.src_rel = src_rel;
        call.dst_root = t->fd;
        // A copy found bad by the scrub is healed where it is; a new one takes the storage layout.
        call.heal = copy_status != nullptr && copy_rel != nullptr;
        call.dst_rel = call.heal ? copy_rel : src_rel;
        call.sha = sha;
        if (!call.heal && pre[i].outcome == -3) continue;  // not copied this round
        if (!call.heal && pre[i].outcome >= 0) {
            call.outcome = pre[i].outcome;
            call.err = 0;
            call.bytes = pre[i].bytes;
            snprintf(call.final_rel, sizeof call.final_rel, "%s", pre[i].final_rel);
            snprintf(call.detail, sizeof call.detail, "%s", pre[i].detail);
        } else {
            if (TimestampDifferenceExceeds(started, GetCurrentTimestamp(), kBatchMs)) continue;  // next round
            pgstat_report_activity(STATE_RUNNING, "copying to a backup target");
            do_copy(&call);
        }
        if (call.outcome == -1) {
            ereport(WARNING, (errmsg("photofactory backup: target \"%s\" paused: %s", t->name, call.detail)));
            pause_target(t, call.detail);
            const char* w[3] = {t->id, "paused", t->detail};
            exec_args("SELECT photofactory._backup_target_state($1::pg_catalog.uuid, $2, $3)", 3, w, "target state");
            continue;
        }
        if (call.outcome == -2) {
            ereport(WARNING, (errmsg("photofactory backup: copying %s to \"%s\" failed: %s", src_rel, t->name,
                                     call.detail)));
            r->problems++;
            continue;
        }
        auto outcome = static_cast<pf::CopyOutcome>(call.outcome);
        if (outcome == pf::CopyOutcome::Copied || outcome == pf::CopyOutcome::AlreadyPresent) {
            const char* w[6] = {asset, sidecar, target_id, call.final_rel, sha, size};
            exec_args("SELECT photofactory._backup_record_copy($1::pg_catalog.uuid, $2::pg_catalog.uuid,"
                      " $3::pg_catalog.uuid, $4, $5, $6::pg_catalog.int8)",
                      6, w, "recording a copy");
            if (t->paused) mark_resumed(t);
            if (outcome == pf::CopyOutcome::Copied) {
                r->files_copied++;
                r->bytes += static_cast<int64>(call.bytes);
            } else {
                r->files_found++;
            }
            continue;
        }
        // The source is the problem: never copied, an error on the asset.
        const char* w[4] = {asset, src_rel, pf::to_string(outcome), call.detail};
        exec_args("SELECT photofactory._backup_source_problem($1::pg_catalog.uuid, $2, $3, $4)", 4, w,
                  "recording a bad original");
        r->problems++;
        failed_asset = asset;
    }
    appendStringInfoChar(&claimed, '}');
    // A retried target that had nothing to copy is fine again.
    for (int i = 0; i < g_ntargets; i++) {
        Target* t = &g_targets[i];
        if (t->usable && t->paused) mark_resumed(t);
    }
    const char* w[1] = {claimed.data};
    exec_args("SELECT photofactory._backup_settle($1::pg_catalog.uuid[])", 1, w, "marking assets backed up");
}

struct ScrubRound {
    bool did_work;
    char progress[512];
};

// One scrub batch of the next usable target with a pass due.
void scrub_batch(void* arg) {
    auto* s = static_cast<ScrubRound*>(arg);
    s->did_work = false;
    if (guc_backup_scrub_rate_mb <= 0) return;
    for (int k = 0; k < g_ntargets; k++) {
        Target* t = &g_targets[(g_scrub_rr + k) % g_ntargets];
        if (!t->usable) continue;
        char interval[32], limit[16];
        snprintf(interval, sizeof interval, "%d minutes", guc_backup_scrub_interval_min);
        snprintf(limit, sizeof limit, "%d", kScrubBatch);
        const char* v[3] = {t->id, interval, limit};
        exec_args("SELECT b.copy_id::pg_catalog.text, b.relative_path, b.file_hash"
                  " FROM photofactory._backup_scrub_batch($1::pg_catalog.uuid, $2::pg_catalog.interval,"
                  " $3::pg_catalog.int4) AS b",
                  3, v, "scrub batch");
        SPITupleTable* tt = SPI_tuptable;
        uint64 n = SPI_processed;
        // The pass started (or was under way): it may also be over.
        static ScrubCall call;
        int checked = 0;
        TimestampTz started = GetCurrentTimestamp();  // bounded: the target's row stays locked meanwhile
        for (uint64 i = 0; i < n && !worker_should_exit(); i++) {
            if (i > 0 && TimestampDifferenceExceeds(started, GetCurrentTimestamp(), kBatchMs)) break;
            char* copy_id = SPI_getvalue(tt->vals[i], tt->tupdesc, 1);
            call.root = t->fd;
            call.rel = SPI_getvalue(tt->vals[i], tt->tupdesc, 2);
            call.sha = SPI_getvalue(tt->vals[i], tt->tupdesc, 3);
            call.rate_bytes_s = guc_backup_scrub_rate_mb * 1024.0 * 1024.0;
            pgstat_report_activity(STATE_RUNNING, "scrubbing a backup copy");
            do_verify(&call);
            CHECK_FOR_INTERRUPTS();
            const char* w[3] = {copy_id, pf::to_string(static_cast<pf::CopyState>(call.state)),
                                call.detail[0] ? call.detail : nullptr};
            exec_args("SELECT photofactory._backup_scrub_result($1::pg_catalog.int8, $2, $3)", 3, w, "scrub result");
            checked++;
        }
        // Nothing (left) to verify while a pass is open: it is done.
        bool finished = false;
        if (static_cast<int>(n) < kScrubBatch && checked == static_cast<int>(n)) {
            const char* w[1] = {t->id};
            exec_args("SELECT photofactory._backup_scrub_finish($1::pg_catalog.uuid)", 1, w, "scrub finish");
            if (SPI_processed == 1) {
                char* done = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
                if (done != nullptr) {
                    snprintf(s->progress, sizeof s->progress, "%s", done);
                    finished = true;
                }
            }
        }
        if (n == 0) continue;
        s->did_work = true;
        if (finished) return;
        exec_args("SELECT format('scrubbing %s: %s copies verified, %s problems', t.name, t.scrub_checked,"
                  " t.scrub_problems) FROM photofactory.backup_targets t WHERE t.id = $1::pg_catalog.uuid",
                  1, v, "scrub progress");
        if (SPI_processed == 1)
            snprintf(s->progress, sizeof s->progress, "%s",
                     SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
        s->did_work = true;
        g_scrub_rr = (g_scrub_rr + k) % g_ntargets;
        return;
    }
    g_scrub_rr = (g_scrub_rr + 1) % (g_ntargets > 0 ? g_ntargets : 1);
}

void auto_restore(void* arg) {
    auto* restored = static_cast<int*>(arg);
    int rc = SPI_execute("SELECT photofactory._backup_auto_restore(10)", false, 0);
    if (rc != SPI_OK_SELECT || SPI_processed != 1) elog(ERROR, "automatic restore failed");
    bool isnull;
    *restored = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

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
