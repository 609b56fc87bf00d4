// What a librarian tells the database about itself: its row of
// photofactory.librarian_state and, through it, the aggregated `librarian`
// service row (photofactory._librarian_beat, issue #19).
#pragma once

#include "pg/pg_headers.hpp"

namespace pf::pg {

struct LibrarianReport {
    int index;
    int workers;
    const char* status;     // its own: OK, WARNING, ERROR
    const char* task;
    const char* inbox_dir;
    bool scanned;           // counts below come from a scan since the last report
    int ready, settling, stuck, unlisted;
    const char* stuck_paths;  // newline-separated inbox-relative paths (as inbox_report prints them)
};

// Inside run_in_transaction. Falls back to a plain heartbeat when the
// database's extension predates _librarian_beat (not yet updated to 0.2.0).
void send_librarian_report(const LibrarianReport& r);

// Inside run_in_transaction, when librarian `index` stops: its state row goes
// (photofactory._librarian_gone; nothing when the extension predates it).
void send_librarian_gone(int index);

}  // namespace pf::pg
