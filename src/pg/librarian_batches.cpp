// The librarian's work: scanning the inbox into the core's IngestQueue, and
// ingesting the batches a pass over it hands out -- claimed group by group
// when several librarians share the inbox -- with the bookkeeping of each
// outcome.
#include <sys/stat.h>
#include <time.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "core/file_identity.hpp"
#include "core/inbox_scan.hpp"
#include "core/ingest_queue.hpp"
#include "core/log_escape.hpp"
#include "pg/advisory_locks.hpp"
#include "pg/boundary.hpp"
#include "pg/gucs.hpp"
#include "pg/librarian_state.hpp"
#include "pg/worker.hpp"

namespace pf::pg {
namespace {

constexpr long kDiskFullRetryMs = 30000;

// Files are ingested in batches (pf::QueueLimits): one data-sync pass, two
// commits and one fsync per folder for up to batch_files files, which is what
// makes small files fast. The byte cap keeps a batch of large files short, so
// a SIGTERM or a crash costs little re-reading.
constexpr int kMaxBatch = static_cast<int>(pf::QueueLimits{}.batch_files);

// The batch being ingested, as plain C data (a longjmp may cross it).
struct Pending {
    size_t entry;       // index in the queue's entries
    bool give_up;       // moved to Rejected/ with its give-up reason
    double wait_left;   // seconds until its sidecar wait ends
};
Pending batch_files[kMaxBatch];
BatchFile batch_reqs[kMaxBatch];
IngestOutcome batch_outs[kMaxBatch];
int32 batch_claims[kMaxBatch];
bool batch_claimed[kMaxBatch];

void note_settle(double seconds_left) {
    TimestampTz ready = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), static_cast<int64>(seconds_left * 1000.0) + 10);
    if (lib_st.next_settle == 0 || ready < lib_st.next_settle) lib_st.next_settle = ready;
}

struct ClaimArg {
    int n;
    bool release;
};

// With several librarians, each claims a companion group before ingesting it
// (a session advisory lock on the group key's hash, held across the batch's
// transactions): work is shared dynamically, so a few large files still keep
// every librarian busy, and one librarian always takes a whole group.
void claim_step(void* arg) {
    auto* a = static_cast<ClaimArg*>(arg);
    session_locks(LockClass::CompanionGroup, batch_claims, a->n, a->release, batch_claimed);
}

// Claims the batch's groups; drops the groups another librarian holds.
// Returns the number of claims held (to release), or -1 when claiming failed.
int claim_groups() {
    int nclaims = 0;
    pf_core_call("claiming files", [&] {
        std::vector<int32_t> keys = lib_heap.queue->group_claims();
        nclaims = static_cast<int>(keys.size());
        for (int i = 0; i < nclaims; i++) batch_claims[i] = keys[static_cast<size_t>(i)];
    });
    ClaimArg claim{nclaims, false};
    if (!run_in_transaction("claiming files", claim_step, &claim)) return -1;
    pf_core_call("claiming files", [&] {
        std::vector<bool> granted(batch_claimed, batch_claimed + nclaims);
        lib_heap.queue->keep_claimed(granted);
    });
    // Release only what was taken.
    int held = 0;
    for (int i = 0; i < nclaims; i++)
        if (batch_claimed[i]) batch_claims[held++] = batch_claims[i];
    return held;
}

// A file that failed (not for a paused library): counted, and logged; after
// the give-up attempt failed too, it stays in the inbox until it changes.
void note_failure(const Pending& p, const IngestOutcome& out, const char* src, const char* dst) {
    int attempts = 0;
    const char* reason = out.reason;
    const bool gave_up = p.give_up;
    const size_t entry = p.entry;
    int owner = 0;
    pf_core_call("bookkeeping", [&] {
        attempts = lib_heap.queue->note_failure(entry, reason, gave_up);
        owner = static_cast<int>(pf::path_hash(lib_heap.queue->key(entry)) %
                                 static_cast<uint32_t>(guc_librarian_workers > 0 ? guc_librarian_workers : 1));
    });
    if (gave_up) {
        lib_heap.queue->add_stuck();
        // Every librarian may try the file (work is shared); one of them warns.
        ereport(owner == g_worker.index ? WARNING : DEBUG1,
                (errmsg("photofactory %s: leaving \"%s\" in the inbox: it cannot be moved, not even to Rejected/: %s",
                        g_worker.label, src, LogText(out.reason).text),
                 errhint("Check that the server's user may rename files in that folder; the file is retried once it changes.")));
    } else {
        ereport(LOG, (errmsg("photofactory %s: could not ingest \"%s\"%s%s%s (attempt %d of %d): %s", g_worker.label,
                             src, dst[0] ? " into \"" : "", dst, dst[0] ? "\"" : "", attempts,
                             lib_heap.queue->limits().max_attempts, LogText(out.reason).text)));
    }
}

// Ingests the collected batch and does the per-file bookkeeping.
void ingest_batch_and_record(int n) {
    const pf::IngestQueue& q = *lib_heap.queue;
    for (int i = 0; i < n; i++) {
        const pf::BatchItem& it = q.batch()[static_cast<size_t>(i)];
        batch_files[i] = Pending{it.entry, !it.give_up.empty(), it.wait_left};
        batch_reqs[i].rel_path = q.entry(it.entry).rel_path.c_str();
        batch_reqs[i].force_reject = it.give_up.empty() ? nullptr : it.give_up.c_str();
        batch_reqs[i].may_wait = it.may_wait;
        batch_reqs[i].group_key = q.key(it.entry).c_str();
    }
    char task[256];
    snprintf(task, sizeof task, "Ingesting a batch of %d files from %s", n, lib_st.inbox_dir);
    pgstat_report_activity(STATE_RUNNING, task);
    heartbeat(task, false);
    ingest_batch(target(), batch_reqs, n, batch_outs);
    lib_st.last_done = GetCurrentTimestamp();
    for (int i = 0; i < n; i++) {
        const pf::InboxEntry& e = q.entry(batch_files[i].entry);
        IngestOutcome& out = batch_outs[i];
        if (out.needs_recovery) lib_st.recovered = false;
        // Names are raw bytes: escaped, so no name can break or forge a log line.
        char* src = pf_core_call_cstring("log line", [&] { return pf::log_escape_path(lib_st.inbox_dir, e.rel_path); });
        char* dst = pf_core_call_cstring("log line", [&] { return pf::log_escape(out.stored_path); });
        if (out.result == IngestResult::Failed)
            ereport(DEBUG1, (errmsg("photofactory %s: failed: \"%s\"%s%s%s: %s", g_worker.label, src,
                                    dst[0] ? " -> \"" : "", dst, dst[0] ? "\"" : "", out.reason)));
        else
            ereport(DEBUG1, (errmsg("photofactory %s: %s: \"%s\"%s%s%s%s%s", g_worker.label, to_string(out.result), src,
                                    dst[0] ? " -> \"" : "", dst, dst[0] ? "\"" : "", out.reason[0] ? ": " : "",
                                    out.reason)));
        if (out.result == IngestResult::Ingested || out.result == IngestResult::Sidecar ||
            out.result == IngestResult::Duplicate || out.result == IngestResult::Rejected)
            lib_st.bytes += e.st.st_size;
        if (out.result == IngestResult::Unstable || out.result == IngestResult::Waiting) {
            pfree(src);
            pfree(dst);
            lib_heap.queue->add_settling();
            // Unstable: look again once it has settled; a sidecar before its photo waits.
            if (out.result == IngestResult::Unstable) lib_st.dirty = true;
            else note_settle(batch_files[i].wait_left);
            continue;
        }
        if (out.result == IngestResult::Failed && !out.storage_paused) note_failure(batch_files[i], out, src, dst);
        pfree(src);
        pfree(dst);
        record(out, e.rel_path.c_str());
    }
}

// Ingests the queue's current batch, after claiming its groups.
void flush_batch() {
    // The scan's list is of another tree once the folders moved: start again
    // (lib_st.inbox_fd < 0: found moved by an earlier batch of this round).
    if (lib_st.inbox_fd < 0 || roots_moved()) return;
    int nclaims = 0;
    if (guc_librarian_workers > 1) {
        nclaims = claim_groups();
        if (nclaims < 0) return;
    }
    int n = static_cast<int>(lib_heap.queue->batch().size());
    if (n > 0) ingest_batch_and_record(n);
    if (nclaims > 0) {
        ClaimArg release{nclaims, true};
        run_in_transaction("releasing claims", claim_step, &release);
    }
}

bool pass_should_stop() {
    return worker_should_exit() || ConfigReloadPending || GetCurrentTimestamp() < lib_st.paused_until ||
           lib_st.inbox_fd < 0;  // the folders moved (roots_moved): rescan
}

}  // namespace

void record(const IngestOutcome& o, const char* rel) {
    switch (o.result) {
        case IngestResult::Ingested:
        case IngestResult::Sidecar: lib_st.ingested++; break;
        case IngestResult::Duplicate: lib_st.duplicates++; break;
        case IngestResult::Rejected: lib_st.rejected++; break;
        case IngestResult::Failed:
            lib_st.failed++;
            if (o.storage_paused) {
                set_problem("ERROR", "Paused: storage is full, read-only or not writable (%s); retrying every %ld s", LogText(o.reason).text,
                            kDiskFullRetryMs / 1000);
                lib_st.paused_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), kDiskFullRetryMs);
            }
            break;
        default: break;
    }
    if (o.result != IngestResult::Failed)
        pf_core_call("bookkeeping", [rel] { lib_heap.queue->forget_failure(std::string(rel)); });
}

void scan_step(void* arg) {
    (void)arg;
    int n = guc_librarian_workers > 0 ? guc_librarian_workers : 1;
    int me = g_worker.index;
    int fd = lib_st.inbox_fd;
    int lib_fd = lib_st.storage_fd;
    int unlisted = 0;
    pf_core_call("scanning the inbox", [&] {
        // Never into the library, whatever way it is reached (a bind mount).
        struct stat lib;
        pf::FileIdentity skip;
        if (fstat(lib_fd, &lib) == 0) skip = pf::identity_of(lib);
        std::vector<pf::InboxEntry> found;
        pf::ScanStats stats;
        pf::scan_inbox(
            fd,
            [&](const pf::InboxEntry& e) {
                if (e.verdict == pf::NameVerdict::Temporary || e.verdict == pf::NameVerdict::Candidate)
                    found.push_back(e);
            },
            stats, 64, &skip);
        lib_heap.queue->replace_scan(std::move(found));
        *lib_heap.scan_news += lib_heap.queue->note_unlisted(stats.errors, n, me);
        unlisted = static_cast<int>(lib_heap.queue->unlisted());
    });
    lib_st.unlisted = unlisted;
}

// Logs, once each, the folders the scan could not list.
void log_scan_news() {
    char* news = pf_core_call_cstring("scan report", [] {
        std::string s;
        s.swap(*lib_heap.scan_news);
        return s;
    });
    for (char* line = news; *line != '\0';) {
        char* nl = strchr(line, '\n');
        if (nl != nullptr) *nl = '\0';
        ereport(WARNING, (errmsg("photofactory %s: skipping part of the inbox: %s", g_worker.label, line),
                          errhint("Files in that folder stay in the inbox until the server's user can list it; "
                                  "this is logged once.")));
        if (nl == nullptr) break;
        line = nl + 1;
    }
    pfree(news);
}

// Ingests the settled files of this librarian's share of the inbox, a
// companion group at a time (pf::IngestQueue decides which and in what
// batches).
void process_entries() {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    count_backlog(now);
    lib_st.next_settle = 0;
    pf::PassSettings ps;
    ps.settle_s = guc_settle_time_s;
    ps.sidecar_wait_s = guc_sidecar_wait_s;
    ps.workers = guc_librarian_workers;
    ps.index = g_worker.index;
    pf_core_call("bookkeeping", [&] { lib_heap.queue->start_pass(now, ps); });
    const size_t total = lib_heap.queue->size();
    char task[768];
    while (true) {
        bool got = false;
        pf::BatchReason why = pf::BatchReason::Last;
        double hint = -1;
        pf_core_call("bookkeeping", [&] {
            got = lib_heap.queue->next_batch(pass_should_stop, &why);
            if (auto h = lib_heap.queue->take_settle_hint()) hint = *h;
        });
        if (hint >= 0) note_settle(hint);
        if (!got) break;
        if (why == pf::BatchReason::Bytes) {
            snprintf(task, sizeof task, "Processing %zu/%zu files in %s", lib_heap.queue->position(), total,
                     lib_st.inbox_dir);
            pgstat_report_activity(STATE_RUNNING, task);
            heartbeat(task, false);
            flush_batch();
            CHECK_FOR_INTERRUPTS();
        } else if (why == pf::BatchReason::Full) {
            flush_batch();
        } else {
            // Files collected but not yet touched wait for the next round when
            // the worker is stopping or ingestion paused.
            if (worker_should_exit() || GetCurrentTimestamp() < lib_st.paused_until || lib_st.inbox_fd < 0) break;
            snprintf(task, sizeof task, "Processing the last %zu of %zu files in %s", lib_heap.queue->batch().size(),
                     total, lib_st.inbox_dir);
            pgstat_report_activity(STATE_RUNNING, task);
            heartbeat(task, false);
            flush_batch();
        }
    }
}

}  // namespace pf::pg
