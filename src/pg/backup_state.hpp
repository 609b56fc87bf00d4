// Inside the backup service (backup_worker.cpp and its parts): the tunables,
// the targets as this process knows them across rounds, and the functions the
// parts share. The state is plain C data (PostgreSQL errors longjmp through
// every frame that touches it) and is defined once, in backup_worker.cpp.
#pragma once

#include "pg/pg_headers.hpp"

#include <cstddef>

#include "pg/service_worker.hpp"

namespace pf::pg::backup {

constexpr int kMaxTargets = 32;
constexpr int kBatchAssets = 20;
constexpr int kScrubBatch = 50;
constexpr long kIdleMs = 2000;
constexpr long kPauseRetryMs = 10000;
constexpr long kBatchMs = 3000;                      // copying time after which a batch commits what it has
constexpr int64 kBatchBytes = 256LL * 1024 * 1024;  // per target and batch

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

// Defined in backup_worker.cpp; kept across rounds (pause, clean-up).
extern Target g_targets[kMaxTargets];
extern int g_ntargets;
extern bool g_any_target_row;
extern bool g_storage_cleaned;
extern int g_scrub_rr;  // round-robin over targets for the scrub

struct LoadState {
    bool extension_missing;
};

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

struct ScrubRound {
    bool did_work;
    char progress[512];
};

// Shared SQL helper (backup_worker.cpp): runs sql with text arguments
// (nullptr: NULL); ERROR naming `what` on failure.
void exec_args(const char* sql, int n, const char* const* vals, const char* what);

// Targets (backup_targets.cpp).
Target* find_target(const char* id);
void load_targets(void* arg);  // run_in_transaction; arg: LoadState
void close_targets();
void probe_targets();
void pause_target(Target* t, const char* why);
void write_target_states();
void mark_resumed(Target* t);
void append_targets(char* buf, size_t len, bool* warn);

// The copy batch (backup_copy_batch.cpp): run_in_transaction; arg: Round.
void copy_batch(void* arg);

// The scrub (backup_scrub.cpp): run_in_transaction; arg: ScrubRound.
void scrub_batch(void* arg);

// Restores (backup_restore.cpp).
int clean_storage() noexcept;
void auto_restore(void* arg);  // run_in_transaction; arg: int restored

}  // namespace pf::pg::backup
