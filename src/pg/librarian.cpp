// The librarian: watches the inbox (inotify plus periodic scans), ingests each
// settled file through the crash-safe protocol of ingest.cpp, serves
// ingest_file() requests, and heartbeats as the `librarian` service.
//
// Several librarians split the inbox by a hash of each file's relative path;
// the journal's unique source/destination keys and the per-hash lock make a
// double ingest impossible even while the split changes.
//
// This file is the worker loop. Its parts: librarian_folders (roots,
// inotify), librarian_status (problems, heartbeats, rounds),
// librarian_batches (scan and batches); the scheduling itself is the core's
// pf::IngestQueue.
#include "pg/librarian.hpp"

#include <algorithm>
#include <climits>
#include <string>

#include "core/ingest_queue.hpp"
#include "core/ingest_request.hpp"
#include "core/inbox_watch.hpp"
#include "pg/boundary.hpp"
#include "pg/catalog_version.hpp"
#include "pg/core_setup.hpp"
#include "pg/gucs.hpp"
#include "pg/librarian_report.hpp"
#include "pg/librarian_state.hpp"
#include "pg/shared_state.hpp"
#include "pg/worker.hpp"

namespace pf::pg {
namespace {

void serve_requests() {
    char path[MAXPGPATH];
    int slot;
    // The inbox as configured, without trailing slashes.
    size_t plen = strlen(lib_st.inbox_dir);
    while (plen > 1 && lib_st.inbox_dir[plen - 1] == '/') plen--;
    while ((slot = take_ingest_request(path, sizeof path)) >= 0) {
        const char* rel = nullptr;
        if (lib_st.inbox_fd >= 0 && strncmp(path, lib_st.inbox_dir, plen) == 0 && path[plen] == '/') rel = path + plen + 1;
        if (rel == nullptr) {
            complete_ingest_request(slot, "refused", "", "", "path is not inside photofactory.inbox_dir");
            continue;
        }
        // Exactly the scan's rules, and one regular file only.
        int fd = lib_st.inbox_fd;
        char* refusal = pf_core_call_cstring("checking an ingest_file() path",
                                             [&] { return pf::ingest_request_refusal(fd, rel); });
        if (refusal[0] != '\0') {
            complete_ingest_request(slot, "refused", "", "", refusal);
            pfree(refusal);
            continue;
        }
        pfree(refusal);
        IngestOutcome out;
        ingest_one(target(), rel, &out);
        record(out, rel);
        complete_ingest_request(slot, to_string(out.result), out.asset_id, out.stored_path, out.reason);
    }
}

void unregister_at_exit(int, Datum arg) {
    release_requests_of_this_process();
    unregister_librarian(DatumGetInt32(arg));
}

long ms_until(TimestampTz when, TimestampTz now) {
    if (when == 0) return LONG_MAX;
    long ms = static_cast<long>((when - now) / 1000);
    return ms < 0 ? 0 : ms;
}

// A previous incarnation may still be finishing its file: wait for its slot.
void take_slot(int index) {
    while (!try_lock_librarian_slot(index)) {
        if (worker_should_exit()) proc_exit(0);
        pgstat_report_activity(STATE_IDLE, "waiting for the previous librarian in this slot to exit");
        worker_sleep(1000);
    }
    register_librarian(index, MyLatch);
    before_shmem_exit(unregister_at_exit, Int32GetDatum(index));
    ensure_core_initialized();
    pf_core_call("librarian start-up", [] {
        lib_heap.queue = new pf::IngestQueue();
        lib_heap.scan_news = new std::string();
    });
    lib_st.seen_wake = g_shared ? pg_atomic_read_u64(&g_shared->wake_requests) : 0;
}

// Anything that calls for a new scan: inotify events, wake_librarian(), the
// scan interval, a settling file's moment, the end of a pause.
void note_wakeups(TimestampTz now) {
    if (lib_heap.watcher != nullptr) {
        bool changed = false;
        pf_core_call("reading inotify events", [&] { changed = lib_heap.watcher->drain(); });
        if (changed) lib_st.dirty = true;
    }
    if (g_shared != nullptr) {
        uint64 wake = pg_atomic_read_u64(&g_shared->wake_requests);
        if (wake != lib_st.seen_wake) {
            lib_st.seen_wake = wake;
            lib_st.dirty = true;
        }
    }
    serve_requests();

    if (now >= lib_st.next_scan || (lib_st.next_settle != 0 && now >= lib_st.next_settle)) lib_st.dirty = true;
    if (lib_st.paused_until != 0 && now >= lib_st.paused_until) {
        lib_st.paused_until = 0;
        lib_st.problem[0] = '\0';
        snprintf(lib_st.status, sizeof lib_st.status, "OK");
        lib_st.dirty = true;
    }
    if (!guc_ingest_enabled) {
        set_problem("WARNING", "Paused: photofactory.ingest_enabled is off");
    } else if (strncmp(lib_st.problem, "Paused: photofactory.ingest_enabled", 35) == 0) {
        lib_st.problem[0] = '\0';
        snprintf(lib_st.status, sizeof lib_st.status, "OK");
    }
}

void scan_and_ingest() {
    lib_st.dirty = false;
    pgstat_report_activity(STATE_RUNNING, "scanning the inbox");
    char err[512] = "";
    if (run_guarded("scanning the inbox", scan_step, nullptr, err, sizeof err)) {
        log_scan_news();
        process_entries();
    } else {
        set_problem("ERROR", "Cannot scan %s: %s", lib_st.inbox_dir, err);
        close_dirs();
    }
    lib_st.next_scan = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), guc_scan_interval_s * 1000L);
}

// Sleeps until the next thing to do (or an inotify event, or the latch).
void wait_for_work() {
    TimestampTz now = GetCurrentTimestamp();
    long timeout = std::min({ms_until(lib_st.next_scan, now), ms_until(lib_st.next_heartbeat, now),
                             ms_until(lib_st.next_settle, now), ms_until(lib_st.paused_until, now)});
    if (lib_st.dirty) timeout = 0;
    if (timeout == LONG_MAX) timeout = 5000;
    int events = WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH;
    pgsocket sock = PGINVALID_SOCKET;
    if (lib_heap.watcher != nullptr) {
        events |= WL_SOCKET_READABLE;
        sock = lib_heap.watcher->fd();
    }
    if (timeout > 0) {
        int rc = WaitLatchOrSocket(MyLatch, events, sock, timeout, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        // inotify fires while a file is still being written: give the writer
        // a moment so one scan sees many events' worth of changes.
        if (rc & WL_SOCKET_READABLE) worker_sleep(200);
    }
}

}  // namespace

void librarian_main() {
    take_slot(g_worker.index);
    bool announced_wait = false;
    while (!worker_should_exit()) {
        if (worker_reload_if_pending() &&
            (strcmp(lib_st.inbox_dir, guc_inbox_dir) != 0 || strcmp(lib_st.storage_dir, guc_storage_dir) != 0)) {
            close_dirs();
            lib_st.inotify_failed = false;
        }
        TimestampTz now = GetCurrentTimestamp();

        bool ready = false;
        run_in_transaction("checking for the extension", [](void* p) { *static_cast<bool*>(p) = extension_ready(); },
                           &ready);
        if (!ready) {
            if (!announced_wait) ereport(LOG, (errmsg("photofactory %s: %s", g_worker.label, catalog_wait_reason())));
            announced_wait = true;
            pgstat_report_activity(STATE_IDLE, catalog_wait_reason());
            worker_sleep(5000);
            continue;
        }
        announced_wait = false;

        roots_moved();  // reopened just below when they moved
        if (!open_dirs()) {
            heartbeat(lib_st.problem, false);
            worker_sleep(5000);
            continue;
        }
        if (!lib_st.recovered) {
            int n = recover_journal(target());
            if (n > 0) ereport(LOG, (errmsg("photofactory %s: recovery resolved %d interrupted moves", g_worker.label, n)));
            lib_st.recovered = true;
        }
        start_watcher();
        note_wakeups(now);
        if (lib_st.dirty && guc_ingest_enabled && lib_st.paused_until == 0) scan_and_ingest();

        if (lib_st.problem[0] == '\0')
            snprintf(lib_st.status, sizeof lib_st.status, "%s", files_stuck() > 0 || lib_st.unlisted > 0 ? "WARNING" : "OK");
        char task[768];
        idle_task(task, sizeof task);
        pgstat_report_activity(STATE_IDLE, task);
        heartbeat(task, false);
        wait_for_work();
        CHECK_FOR_INTERRUPTS();
    }
    if (lib_st.inbox_dir[0] != '\0')
        ereport(LOG, (errmsg("photofactory %s: stopped watching inbox \"%s\"", g_worker.label, lib_st.inbox_dir)));
    // Its row must not go on saying what it was doing.
    run_in_transaction("librarian stopping", [](void*) { if (extension_ready()) send_librarian_gone(g_worker.index); },
                       nullptr);
    close_dirs();
    proc_exit(0);
}

}  // namespace pf::pg
