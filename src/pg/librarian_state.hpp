// Inside the librarian worker (librarian.cpp and its parts): the worker's
// state and the functions its parts share. The scheduling itself (inbox
// entries, failures, batches) is the core's pf::IngestQueue.
#pragma once

#include "pg/pg_headers.hpp"

#include <string>

#include "pg/ingest.hpp"

namespace pf {
class InboxWatcher;
class IngestQueue;
}  // namespace pf

namespace pf::pg {

// Long-lived C++ state lives on the heap, reached through plain pointers: a
// longjmp never runs over it, and it is released explicitly.
struct LibrarianHeap {
    pf::InboxWatcher* watcher = nullptr;
    pf::IngestQueue* queue = nullptr;
    std::string* scan_news = nullptr;  // unlisted folders to log, one per line
};
extern LibrarianHeap lib_heap;

struct LibrarianState {
    int inbox_fd = -1;
    int storage_fd = -1;
    char inbox_dir[MAXPGPATH] = "";
    char storage_dir[MAXPGPATH] = "";
    bool recovered = false;
    bool inotify_failed = false;
    bool dirty = true;
    TimestampTz next_scan = 0;
    TimestampTz next_heartbeat = 0;
    TimestampTz next_settle = 0;    // earliest moment a settling file becomes ready
    TimestampTz paused_until = 0;   // disk full / read-only storage
    uint64 seen_wake = 0;
    char status[16] = "OK";
    char problem[512] = "";
    long ingested = 0, duplicates = 0, rejected = 0, failed = 0;
    int unlisted = 0;
    int64 bytes = 0;                // of the files ingested, set aside or rejected
    // What the last scan found (sent with the next report), and the round it
    // belongs to: a round runs from a scan that finds files ready to one that
    // finds none (issue #19: progress and one LOG summary per round).
    bool scan_to_report = false;
    int scan_ready = 0, scan_settling = 0, scan_stuck = 0;
    bool busy = false;
    TimestampTz round_start = 0;
    TimestampTz last_done = 0;        // end of the latest batch: a round's work ends there
    long round_base[3] = {0, 0, 0};  // ingested, duplicates, rejected at its start
    int64 round_base_bytes = 0;
    char reported_problem[512] = "";  // the problem last logged and reported
};
extern LibrarianState lib_st;

// Raw inbox names (newlines, invalid UTF-8) escaped for the server log, as
// the ledger shows them, into a caller's buffer (the worker's long-lived
// memory context must not collect a string per log line).
struct LogText {
    char text[2048];
    explicit LogText(const char* raw);
};

// librarian_folders.cpp: the inbox and library roots, and inotify.
bool open_dirs();
void close_dirs();
bool roots_moved();
void start_watcher();
IngestTarget target();

// librarian_status.cpp: problems, heartbeats, the round summary.
void set_problem(const char* status, const char* fmt, ...) pg_attribute_printf(2, 3);
void heartbeat(const char* task, bool force);
void idle_task(char* buf, size_t n);
void count_backlog(const struct timespec& now);
// Files of the last pass still settling / stuck (the queue's counts).
int files_settling();
int files_stuck();

// librarian_batches.cpp: scanning, and ingesting the queue's batches.
void scan_step(void* arg);
void log_scan_news();
void process_entries();
void record(const IngestOutcome& o, const char* rel);

}  // namespace pf::pg
