// ingest_batch: the four phases of the protocol (ingest.hpp) over a batch,
// each retried file by file when it fails for the whole batch. The phases
// themselves: ingest_read, ingest_plan, ingest_move, ingest_finish.
#include "pg/ingest.hpp"

#include <cstdio>

#include "core/batch_plan.hpp"
#include "pg/boundary.hpp"
#include "pg/core_setup.hpp"
#include "pg/ingest_work.hpp"
#include "pg/worker.hpp"

namespace pf::pg {

const char* to_string(IngestResult r) {
    switch (r) {
        case IngestResult::Ingested: return "ingested";
        case IngestResult::Duplicate: return "duplicate";
        case IngestResult::Rejected: return "rejected";
        case IngestResult::Unstable: return "unstable";
        case IngestResult::Vanished: return "vanished";
        case IngestResult::Failed: return "failed";
        case IngestResult::Sidecar: return "sidecar";
        case IngestResult::Waiting: return "waiting";
    }
    return "failed";
}

namespace {

// A file that moved: what its plan said it is.
IngestResult result_of(pf::PlanDecision::Outcome o) {
    switch (o) {
        case pf::PlanDecision::Outcome::Ingested: return IngestResult::Ingested;
        case pf::PlanDecision::Outcome::Duplicate: return IngestResult::Duplicate;
        case pf::PlanDecision::Outcome::Sidecar: return IngestResult::Sidecar;
        case pf::PlanDecision::Outcome::Rejected:
        case pf::PlanDecision::Outcome::Wait: break;
    }
    return IngestResult::Rejected;
}

// The files of `all` still on their way.
ItemSet active_items(FileWork* all, int n, FileWork** buf) {
    int k = 0;
    for (int i = 0; i < n; i++)
        if (all[i].active) buf[k++] = &all[i];
    return ItemSet{buf, k};
}

// A batch on its way: every file, and the ones still active at each phase.
struct Batch {
    MemoryContext cxt;
    FileWork* all;
    FileWork** buf;
    int n;
    char err[1024];
};

// A. read: hash + metadata, one pass per file; then durable, all at once.
// Returns the set still on its way.
ItemSet read_phase(Batch* b) {
    MemoryContext caller = MemoryContextSwitchTo(b->cxt);
    for (int i = 0; i < b->n; i++) {
        FileWork* w = &b->all[i];
        if (!run_guarded("reading file", read_step, w, w->out->reason, sizeof w->out->reason)) {
            fail(w, IngestResult::Failed, "%s", w->out->reason);
            continue;
        }
        flush_core_log();
        if (w->kind == kVanished) fail(w, IngestResult::Vanished, "%s", "");
        else if (w->kind == kUnstable) fail(w, IngestResult::Unstable, "changed while being read");
    }
    MemoryContextSwitchTo(caller);
    ItemSet set = active_items(b->all, b->n, b->buf);
    if (set.n == 0) return set;
    int* errs = static_cast<int*>(MemoryContextAllocZero(b->cxt, sizeof(int) * b->n));
    SyncArg sync{set, errs};
    if (!run_guarded("making inbox files durable", data_sync_step, &sync, b->err, sizeof b->err)) {
        for (int i = 0; i < set.n; i++) fail(set.items[i], IngestResult::Failed, "%s", b->err);
        return ItemSet{b->buf, 0};
    }
    for (int i = 0; i < set.n; i++) {
        if (errs[i] == ENOENT) fail(set.items[i], IngestResult::Vanished, "%s", "");
        else if (errs[i] != 0) fail(set.items[i], IngestResult::Failed, "fsync: %s", strerror(errs[i]));
    }
    return active_items(b->all, b->n, b->buf);
}

// B. plan: one transaction for the batch; if it fails, each file alone, so
// that one bad file never holds back the others. Sidecars whose photo has not
// arrived stay in the inbox for now.
ItemSet plan_phase(Batch* b, ItemSet set) {
    if (!run_in_transaction("planning ingest", plan_step, &set, b->err, sizeof b->err)) {
        for (int i = 0; i < set.n; i++) {
            ItemSet one{&set.items[i], 1};
            if (set.n == 1 || !run_in_transaction("planning ingest", plan_step, &one, b->err, sizeof b->err))
                fail(set.items[i], IngestResult::Failed, "%s", b->err);
        }
    }
    for (int i = 0; i < set.n; i++)
        if (set.items[i]->active && set.items[i]->outcome == pf::PlanDecision::Outcome::Wait)
            fail(set.items[i], IngestResult::Waiting, "%s", "sidecar waiting for its photo or video");
    return active_items(b->all, b->n, b->buf);
}

// C. move, then fsync each folder involved once.
ItemSet move_phase(Batch* b, ItemSet set) {
    int nundo = 0;
    FileWork** undo = static_cast<FileWork**>(MemoryContextAllocZero(b->cxt, sizeof(FileWork*) * b->n));
    for (int i = 0; i < set.n; i++) {
        FileWork* w = set.items[i];
        if (run_guarded("moving file", move_step, w, w->out->reason, sizeof w->out->reason)) {
            w->moved = true;
            continue;
        }
        w->out->storage_paused = w->storage_blocked;
        if (w->move_unstable) fail(w, IngestResult::Unstable, "%s", w->out->reason);
        else fail(w, IngestResult::Failed, "%s", w->out->reason);
        undo[nundo++] = w;
    }
    if (nundo > 0) {
        // Nothing moved for these: their journal rows go (recovery would find
        // the same, should this fail).
        FinishArg drop{ItemSet{undo, nundo}, false};
        if (!run_in_transaction("rolling back journal entries", finish_step, &drop))
            for (int i = 0; i < nundo; i++) undo[i]->out->needs_recovery = true;
    }
    set = active_items(b->all, b->n, b->buf);
    if (set.n == 0) return set;
    if (!run_guarded("making moves durable", dirsync_step, &set, b->err, sizeof b->err)) {
        // The files are at their destinations, the journal says so: recovery
        // finishes them once the folders can be synced.
        for (int i = 0; i < set.n; i++) {
            fail(set.items[i], IngestResult::Failed, "%s", b->err);
            set.items[i]->out->needs_recovery = true;
        }
        return ItemSet{b->buf, 0};
    }
    return set;
}

// D. finish: ledger rows + audit events, journal rows retired, one commit.
void finish_phase(Batch* b, ItemSet set) {
    FinishArg fin{set, true};
    if (run_in_transaction("recording ingest", finish_step, &fin, b->err, sizeof b->err)) return;
    for (int i = 0; i < set.n; i++) {
        FinishArg one{ItemSet{&set.items[i], 1}, true};
        if (set.n == 1 || !run_in_transaction("recording ingest", finish_step, &one, b->err, sizeof b->err)) {
            // The file is safely at its destination and its journal row
            // says so: recovery records it.
            fail(set.items[i], IngestResult::Failed, "%s", b->err);
            set.items[i]->out->needs_recovery = true;
        }
    }
}

// The outcomes of the files that made it all the way.
void report_done(Batch* b, const IngestTarget& target) {
    for (int i = 0; i < b->n; i++) {
        FileWork* w = &b->all[i];
        if (!w->active) continue;
        IngestOutcome* out = w->out;
        out->result = result_of(w->outcome);
        snprintf(out->asset_id, sizeof out->asset_id, "%s", w->asset_id);
        snprintf(out->stored_path, sizeof out->stored_path, "%s/%s", target.storage_dir, w->final_rel);
        if (w->kind == kRejected)
            snprintf(out->reason, sizeof out->reason, "%s", w->force_reject ? w->force_reject : w->reject_reason);
    }
}

}  // namespace

void ingest_batch(const IngestTarget& target, const BatchFile* reqs, int n, IngestOutcome* outs) {
    // Everything a batch needs lives in one context, emptied for the next:
    // each commit switches back to TopMemoryContext, where anything allocated
    // would otherwise pile up for the life of the worker.
    static MemoryContext batch_cxt = nullptr;
    if (batch_cxt == nullptr)
        batch_cxt = AllocSetContextCreate(TopMemoryContext, "photofactory batch", ALLOCSET_DEFAULT_SIZES);
    MemoryContextReset(batch_cxt);
    if (n <= 0) return;

    Batch b;
    b.cxt = batch_cxt;
    b.n = n;
    b.err[0] = '\0';
    b.all = static_cast<FileWork*>(MemoryContextAllocZero(batch_cxt, sizeof(FileWork) * n));
    b.buf = static_cast<FileWork**>(MemoryContextAllocZero(batch_cxt, sizeof(FileWork*) * n));
    for (int i = 0; i < n; i++) {
        memset(&outs[i], 0, sizeof outs[i]);
        FileWork& w = b.all[i];
        w.target = &target;
        w.rel = reqs[i].rel_path;
        w.force_reject = reqs[i].force_reject;
        w.may_wait = reqs[i].may_wait;
        w.group_key = reqs[i].group_key;
        w.out = &outs[i];
        w.active = true;
    }
    ItemSet set = read_phase(&b);
    if (set.n > 0) set = plan_phase(&b, set);
    if (set.n > 0) set = move_phase(&b, set);
    if (set.n == 0) return;
    finish_phase(&b, set);
    report_done(&b, target);
}

void ingest_one(const IngestTarget& target, const char* rel_path, IngestOutcome* out, const char* force_reject) {
    BatchFile req{rel_path, force_reject, false, nullptr};
    ingest_batch(target, &req, 1, out);
}

}  // namespace pf::pg
