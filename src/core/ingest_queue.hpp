// The librarian's scheduling state, as a pure class: what the last scan of
// the inbox found (candidates in companion groups, Syncthing temporaries),
// files that keep failing, and which files go into the next batch.
//
// One pass over the scan's list hands out batches: a companion group waits
// until every member has settled and none is still being synced; a group is
// never split across batches (unless absurdly large); a file that failed
// max_attempts times goes to Rejected/ with its last error, and one that
// could not even be moved there waits, untouched, until it changes. Several
// librarians walk the same list from different starting points and wrap
// around, so they rarely contend for the same group.
#pragma once

#include "core/core_guard.hpp"

#include <time.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/inbox_scan.hpp"

namespace pf {

// FNV-1a of a path or key: stable across processes and restarts, so every
// librarian computes the same claim keys and the same owner of a message.
uint32_t path_hash(const std::string& s);

struct QueueLimits {
    size_t batch_files = 128;           // files per batch
    int64_t batch_bytes = 64LL << 20;   // a batch closes once it holds this much
    int max_attempts = 3;               // failures before a file goes to Rejected/
    int64_t abandoned_transit_s = 900;  // a temporary unchanged this long holds nothing back
};

// The settings of one pass (GUCs, read when the pass starts).
struct PassSettings {
    double settle_s = 0;        // photofactory.settle_time
    double sidecar_wait_s = 0;  // photofactory.sidecar_wait
    int workers = 1;            // photofactory.librarian_workers
    int index = 0;              // this librarian
};

// What a scan found, for the progress report.
struct Backlog {
    int ready = 0;     // settled and not given up
    int settling = 0;  // changed less than settle_s ago
    int stuck = 0;     // given up: could not even be moved to Rejected/
};

struct BatchItem {
    size_t entry;           // index into entries()
    std::string give_up;    // non-empty: move to Rejected/ with this reason
    bool may_wait;          // a sidecar still inside photofactory.sidecar_wait
    double wait_left;       // seconds until that wait ends
};

enum class BatchReason {
    Full,   // batch_files reached, or the next group would not fit
    Bytes,  // batch_bytes reached after a group: report progress first
    Last,   // the pass ended (or was stopped) with these files collected
};

class IngestQueue {
public:
    explicit IngestQueue(QueueLimits limits = QueueLimits()) : limits_(limits) {}
    const QueueLimits& limits() const { return limits_; }

    // ---- the scan
    // Replaces the inbox picture with a scan's: candidates (members of a
    // companion group made adjacent) and Syncthing temporaries (their
    // group waits for them). Other entries are ignored.
    void replace_scan(std::vector<InboxEntry> scanned);
    // Folders the scan could not list; returns those this librarian should
    // log now: new since the last scan, and its share of them by path hash
    // (every librarian scans the whole tree; one logs each folder). Names are
    // made printable.
    std::string note_unlisted(const std::vector<std::string>& folders, int workers, int index);
    size_t unlisted() const { return unlisted_.size(); }

    size_t size() const { return entries_.size(); }
    const InboxEntry& entry(size_t i) const { return entries_[i]; }
    const std::string& key(size_t i) const { return keys_[i]; }

    Backlog backlog(const struct timespec& now, double settle_s) const;

    // ---- a pass
    void start_pass(const struct timespec& now, const PassSettings& settings);
    // The next batch of the pass, or false when the pass is over. stop() is
    // asked before each new group; once it says so, the pass ends and the
    // files collected so far come back as the Last batch (the caller decides
    // whether to ingest them). position(): the groups handed out so far.
    bool next_batch(const std::function<bool()>& stop, BatchReason* reason);
    const std::vector<BatchItem>& batch() const { return batch_; }
    size_t position() const { return g_; }

    // Counted during the pass (and by the caller for outcomes).
    int settling() const { return settling_; }
    int stuck() const { return stuck_; }
    void add_settling() { settling_++; }
    void add_stuck() { stuck_++; }
    // Seconds until the earliest settling file of the pass becomes ready,
    // since the last call (none: nullopt). The caller turns it into a wake-up.
    std::optional<double> take_settle_hint();

    // ---- claims (several librarians)
    // One key per companion group of the batch (members are adjacent).
    std::vector<int32_t> group_claims() const;
    // Keeps the members of the groups whose claim was granted (granted[i]
    // for group_claims()[i]).
    void keep_claimed(const std::vector<bool>& granted);

    // ---- failures
    // A file (entry index) failed (not for a paused library); returns its
    // number of attempts. gave_up: even the move to Rejected/ failed.
    int note_failure(size_t entry, const std::string& reason, bool gave_up);
    // Done with it (ingested, set aside, vanished): a fresh start next time.
    void forget_failure(const std::string& rel_path) { failures_.erase(rel_path); }
    // The files left in the inbox for good, printable, one per line.
    std::string stuck_list() const;

private:
    struct Failure {
        int attempts = 0;
        std::string last_error;
        bool given_up = false;
        int64_t mtime = 0, ctime = 0, size = 0;
    };
    bool held(size_t g, size_t end);
    void add_member();

    QueueLimits limits_;
    std::vector<InboxEntry> entries_;
    std::vector<std::string> keys_;                      // companion key of each entry
    std::unordered_map<std::string, int64_t> transit_;   // key -> mtime of a Syncthing temporary
    std::unordered_map<std::string, Failure> failures_;  // by relative path
    std::unordered_set<std::string> unlisted_;

    // The pass.
    struct timespec now_ = {0, 0};
    PassSettings settings_;
    size_t start_ = 0, g_ = 0, end_ = 0, member_ = 0;
    bool wrapped_ = false, in_group_ = false, done_ = true;
    std::vector<BatchItem> batch_;
    int64_t batch_bytes_ = 0;
    int settling_ = 0, stuck_ = 0;
    std::optional<double> settle_hint_;
};

}  // namespace pf
