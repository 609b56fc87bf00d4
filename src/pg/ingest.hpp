// Ingesting one inbox file, crash-safely.
//
// The protocol (docs/architecture.md has the full argument):
//   A. read     hash + metadata in one pass; the batch's files fsynced (no transaction)
//   B. plan     under a per-hash advisory lock decide ingested / duplicate /
//               rejected, pick a free destination name, and COMMIT an
//               ingest_journal row naming source and destination
//   C. move     pf::move_no_replace (core/safe_move.hpp) between folder fds
//               opened from the inbox and storage roots with O_NOFOLLOW:
//               renameat2(RENAME_NOREPLACE) once the source's device, inode,
//               size and mtime still match what was read, or copy+fsync+verify
//               across filesystems; fsync destination and source folders
//   D. finish   one transaction: media_assets row + inbox_events row, journal
//               row deleted
// A crash before B's commit leaves the file in the inbox; between B and D,
// recovery finds the journal row and either finishes D (the file is at its
// destination) or drops the row (the file is still in the inbox).
#pragma once

#include "pg/pg_headers.hpp"

namespace pf::pg {

struct IngestTarget {
    int inbox_fd;
    int storage_fd;
    const char* inbox_dir;    // absolute, as configured
    const char* storage_dir;  // absolute, as configured
    int librarian;            // journal owner
};

// Sidecar: stored beside its asset. Waiting: a sidecar whose photo has not
// arrived yet, left in the inbox for now.
enum class IngestResult { Ingested, Duplicate, Rejected, Unstable, Vanished, Failed, Sidecar, Waiting };

struct IngestOutcome {
    IngestResult result;
    bool storage_paused;      // the library cannot take files (ENOSPC, EDQUOT, EROFS, or a library
                              // folder the server may not write): pause ingestion, do not count
    bool needs_recovery;      // a journal row was left behind: run recover_journal again
    char asset_id[40];        // the new asset, or the one it duplicates
    char stored_path[2048];   // absolute path where the file now is ("" if it did not move)
    char reason[1024];        // rejection reason or error text
};

const char* to_string(IngestResult r);

struct BatchFile {
    const char* rel_path;
    const char* force_reject;  // non-null: not read, moved to Rejected/ with this reason
    bool may_wait;             // a sidecar may still wait for its photo (photofactory.sidecar_wait)
    const char* group_key;     // its companion key when the caller has it (null: computed here)
};

// Ingests a batch of files through the protocol above with one data-sync
// pass, one plan commit, one fsync per folder and one finish commit for the
// whole batch (a failing step is retried file by file, so one bad file never
// holds back the others). outs[i] describes reqs[i]. Never raises; must be
// called outside a transaction.
void ingest_batch(const IngestTarget& target, const BatchFile* reqs, int n, IngestOutcome* outs);

// A batch of one. With force_reject, the file is not read but moved to
// Rejected/ with that reason (a file that kept failing).
void ingest_one(const IngestTarget& target, const char* rel_path, IngestOutcome* out,
                const char* force_reject = nullptr);

// Finishes or rolls back journal rows left by a crash: those of `librarian`
// and those whose owner is not running. Outside a transaction. Returns the
// number of rows resolved.
int recover_journal(const IngestTarget& target);

// Session-level advisory lock that marks librarian `index` as alive.
bool try_lock_librarian_slot(int index);

}  // namespace pf::pg
