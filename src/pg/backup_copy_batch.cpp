// The backup copy batch: one transaction claims a batch of assets (FOR UPDATE
// SKIP LOCKED), copies the files each usable target lacks with the verified
// protocol of src/core/backup_copy.hpp (new copies batched per target, one
// flush each; copies the scrub found bad healed one by one), records every
// verified copy and marks the complete assets. Its own file because it is
// the service's main work and its longest function.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/backup_copy.hpp"
#include "core/io_priority.hpp"
#include "pg/backup_state.hpp"
#include "pg/pg_headers.hpp"

namespace pf::pg::backup {
namespace {

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
        pf::IdleIoPriority idle;  // the librarian and the database first (core/io_priority.hpp)
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
        pf::IdleIoPriority idle;  // the librarian and the database first (core/io_priority.hpp)
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

}  // namespace

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

}  // namespace pf::pg::backup
