// The librarian's status: problems logged once and reported at once,
// heartbeats (one service row shared by every librarian), the task shown in
// pg_stat_activity, and the summary of each round of work.
#include <cstdio>
#include <string>

#include "core/filename_sanitize.hpp"
#include "core/ingest_queue.hpp"
#include "pg/boundary.hpp"
#include "pg/gucs.hpp"
#include "pg/librarian_report.hpp"
#include "pg/librarian_state.hpp"
#include "pg/shared_state.hpp"
#include "pg/worker.hpp"

namespace pf::pg {

LibrarianHeap lib_heap;
LibrarianState lib_st;

LogText::LogText(const char* raw) {
    pf_core_call("escaping a name for the log", [&] {
        std::string safe = pf::escape_for_log(raw);
        snprintf(text, sizeof text, "%s", safe.c_str());
    });
}

int files_settling() { return lib_heap.queue != nullptr ? lib_heap.queue->settling() : 0; }
int files_stuck() { return lib_heap.queue != nullptr ? lib_heap.queue->stuck() : 0; }

void set_problem(const char* status, const char* fmt, ...) {
    snprintf(lib_st.status, sizeof lib_st.status, "%s", status);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lib_st.problem, sizeof lib_st.problem, fmt, ap);
    va_end(ap);
}

namespace {

void heartbeat_step(void* arg) {
    auto* r = static_cast<LibrarianReport*>(arg);
    if (!extension_ready()) return;
    send_librarian_report(*r);
}

int severity(const char* status) {
    return strcmp(status, "ERROR") == 0 ? 2 : strcmp(status, "WARNING") == 0 ? 1 : 0;
}

// A problem appearing, changing or going away (cannot open the inbox or the
// storage, paused, resumed) is logged once and reported at once.
bool shared_problem(const char* p) {
    // Every librarian meets these at once: the first one logs them.
    return strncmp(p, "Paused: photofactory.", 21) == 0 || strncmp(p, "Idle: ", 6) == 0 ||
           strncmp(p, "Cannot open ", 12) == 0 || strncmp(p, "Cannot create ", 14) == 0;
}

bool problem_changed() {
    if (strcmp(lib_st.problem, lib_st.reported_problem) == 0) return false;
    const char* which = lib_st.problem[0] != '\0' ? lib_st.problem : lib_st.reported_problem;
    if (!shared_problem(which) || g_worker.index == 0) {
        if (lib_st.problem[0] != '\0')
            ereport(LOG, (errmsg("photofactory %s: %s", g_worker.label, lib_st.problem)));
        else
            ereport(LOG, (errmsg("photofactory %s: resumed (was: %s)", g_worker.label, lib_st.reported_problem)));
    }
    snprintf(lib_st.reported_problem, sizeof lib_st.reported_problem, "%s", lib_st.problem);
    return true;
}

}  // namespace

void heartbeat(const char* task, bool force) {
    TimestampTz now = GetCurrentTimestamp();
    force = problem_changed() || force;
    if (!force && now < lib_st.next_heartbeat) return;
    // Several librarians share one service row: _librarian_beat writes this
    // one's state and the row with the aggregate of all (the worst status,
    // the whole backlog), so one paused librarian is never hidden by a
    // healthy one.
    (void)librarian_worst_severity(g_worker.index, severity(lib_st.status));
    char* stuck = pf_core_call_cstring("listing stuck files", [] { return lib_heap.queue->stuck_list(); });
    LibrarianReport r{g_worker.index, guc_librarian_workers > 0 ? guc_librarian_workers : 1, lib_st.status, task,
                      lib_st.inbox_dir, lib_st.scan_to_report, lib_st.scan_ready, lib_st.scan_settling, lib_st.scan_stuck, lib_st.unlisted,
                      stuck};
    if (run_in_transaction("librarian heartbeat", heartbeat_step, &r)) lib_st.scan_to_report = false;
    pfree(stuck);
    lib_st.next_heartbeat = TimestampTzPlusMilliseconds(now, guc_heartbeat_interval_s * 1000L);
}

void idle_task(char* buf, size_t n) {
    if (lib_st.problem[0] != '\0') {
        snprintf(buf, n, "%s", lib_st.problem);
        return;
    }
    char extra[160] = "";
    if (lib_st.unlisted > 0)
        snprintf(extra, sizeof extra, "; %d folder(s) cannot be read and are skipped (see the server log)", lib_st.unlisted);
    else if (files_stuck() > 0)
        snprintf(extra, sizeof extra, "; %d file(s) cannot be moved and stay in the inbox (see the server log)", files_stuck());
    else if (files_settling() > 0)
        snprintf(extra, sizeof extra, "; %d file(s) settling", files_settling());
    snprintf(buf, n, "Watching %s (%s): %ld ingested, %ld duplicates, %ld rejected%s", lib_st.inbox_dir,
             lib_heap.watcher ? "inotify + scans" : "scans", lib_st.ingested, lib_st.duplicates, lib_st.rejected, extra);
}

// What the scan found: ready (settled, not given up), settling, stuck. A
// backlog appearing or going away starts or ends a round: reported at once,
// and the end of a round is summed up in the log.
void count_backlog(const struct timespec& now) {
    const double settle_s = guc_settle_time_s;
    pf::Backlog b;
    pf_core_call("counting the backlog", [&] { b = lib_heap.queue->backlog(now, settle_s); });
    const int ready = b.ready;
    lib_st.scan_ready = ready;
    lib_st.scan_settling = b.settling;
    lib_st.scan_stuck = b.stuck;
    lib_st.scan_to_report = true;
    bool busy = ready > 0;
    if (busy == lib_st.busy) return;
    lib_st.busy = busy;
    TimestampTz now_ts = GetCurrentTimestamp();
    if (busy) {
        lib_st.round_start = now_ts;
        lib_st.round_base[0] = lib_st.ingested;
        lib_st.round_base[1] = lib_st.duplicates;
        lib_st.round_base[2] = lib_st.rejected;
        lib_st.round_base_bytes = lib_st.bytes;
    } else {
        long ing = lib_st.ingested - lib_st.round_base[0], dup = lib_st.duplicates - lib_st.round_base[1],
             rej = lib_st.rejected - lib_st.round_base[2];
        double mb = static_cast<double>(lib_st.bytes - lib_st.round_base_bytes) / 1e6;
        double secs = static_cast<double>((lib_st.last_done > lib_st.round_start ? lib_st.last_done : now_ts) - lib_st.round_start) / 1e6;
        if (ing + dup + rej > 0)
            ereport(LOG, (errmsg("photofactory %s: round done in %.1f s: %ld ingested, %ld duplicates, %ld rejected, "
                                 "%.1f MB (%.1f files/s, %.1f MB/s)",
                                 g_worker.label, secs, ing, dup, rej, mb, secs > 0 ? (ing + dup + rej) / secs : 0.0,
                                 secs > 0 ? mb / secs : 0.0)));
    }
    char task[768];
    if (busy)
        snprintf(task, sizeof task, "Ingesting %d file(s) from %s", ready, lib_st.inbox_dir);
    else
        idle_task(task, sizeof task);
    heartbeat(task, true);
}

}  // namespace pf::pg
