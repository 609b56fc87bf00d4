// Inside ingest_batch (ingest.hpp): one file's way through a batch and the
// four phases, each in its own file (ingest_read, ingest_plan, ingest_move,
// ingest_finish). Steps have the run_guarded / run_in_transaction signature.
#pragma once

#include "pg/ingest.hpp"

#include "core/batch_plan.hpp"
#include "core/datetime.hpp"
#include "core/file_identity.hpp"

namespace pf::pg {

enum ReadKind { kRead, kRejected, kUnstable, kVanished, kSidecar };

// One file's way through a batch. Plain C data only: PostgreSQL errors may
// longjmp over any frame that touches it.
struct FileWork {
    const IngestTarget* target;
    const char* rel;
    const char* force_reject;
    IngestOutcome* out;
    bool active;  // still on its way; false once its outcome is final
    // read step
    int kind;
    char reject_reason[32];
    pf::FileIdentity identity;  // the entry as read: the move insists on finding it
    char sha256[65];
    char date_folder[16];
    char safe_name[1024];
    char* details;  // palloc'd JSON (batch context): everything the ledger rows need
    const char* group_key;  // companion key (pf::inbox_companion_key)
    bool may_wait;    // a sidecar still inside photofactory.sidecar_wait
    // facts the plan needs (media)
    bool video;
    char format[16];
    pf::LocalDateTime captured;
    bool has_offset;
    int offset;
    char date_source[24];
    // plan step
    char patch[8192];  // JSON merged into details: group, companion, re-dating
    int64 journal_id;
    pf::PlanDecision::Outcome outcome;
    char asset_id[40];
    char dest_rel[2048];
    // move step
    bool moved;
    char final_rel[2048];
    int move_errno;
    bool move_unstable;    // the entry changed since it was read: it waits
    bool storage_blocked;  // the library cannot take files now: pause, do not count
};

struct ItemSet {
    FileWork** items;
    int n;
};

// Ends a file's way with this result and reason.
void fail(FileWork* w, IngestResult r, const char* fmt, ...) pg_attribute_printf(3, 4);

// A. read: hash + metadata of one file (run_guarded; arg: FileWork).
void read_step(void* arg);

// A'. the bytes of every file read made durable at once (run_guarded).
struct SyncArg {
    ItemSet set;
    int* errs;  // per file: 0, or the errno of its sync
};
void data_sync_step(void* arg);

// B. plan: decisions and journal rows for a set, one transaction
// (run_in_transaction; arg: ItemSet).
void plan_step(void* arg);

// C. move one file (run_guarded; arg: FileWork), then fsync every folder the
// set left or entered (run_guarded; arg: ItemSet).
void move_step(void* arg);
void dirsync_step(void* arg);

// D. finish: ledger rows + audit events, journal rows retired; or, with
// finish = false, the journal rows of files that did not move dropped
// (run_in_transaction).
struct FinishArg {
    ItemSet set;
    bool finish;
};
void finish_step(void* arg);

}  // namespace pf::pg
