// The librarian: watches the inbox (inotify plus periodic scans), ingests each
// settled file through the crash-safe protocol of ingest.cpp, serves
// ingest_file() requests, and heartbeats as the `librarian` service.
//
// Several librarians split the inbox by a hash of each file's relative path;
// the journal's unique source/destination keys and the per-hash lock make a
// double ingest impossible even while the split changes.
#include "pg/librarian.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <numeric>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/companions.hpp"
#include "core/file_identity.hpp"
#include "core/filename_sanitize.hpp"
#include "core/ingest_request.hpp"
#include "core/root_guard.hpp"
#include "core/inbox_rules.hpp"
#include "core/inbox_scan.hpp"
#include "core/inbox_watch.hpp"
#include "core/log_escape.hpp"
#include "pg/boundary.hpp"
#include "pg/catalog_version.hpp"
#include "pg/core_setup.hpp"
#include "pg/gucs.hpp"
#include "pg/ingest.hpp"
#include "pg/librarian_report.hpp"
#include "pg/pg_headers.hpp"
#include "pg/shared_state.hpp"
#include "pg/worker.hpp"

namespace pf::pg {
namespace {

constexpr int kMaxAttempts = 3;     // failures before a file is moved to Rejected/
constexpr long kDiskFullRetryMs = 30000;

// A file that keeps failing. Once even the move to Rejected/ failed (e.g. no
// permission to rename it), it is left alone until it changes on disk.
struct Failure {
    int attempts = 0;
    std::string last_error;
    bool given_up = false;
    int64_t mtime = 0, ctime = 0, size = 0;
};

// Long-lived C++ state lives on the heap, reached through plain pointers: a
// longjmp never runs over it, and it is released explicitly.
struct Heap {
    pf::InboxWatcher* watcher = nullptr;
    std::vector<pf::InboxEntry>* entries = nullptr;
    std::unordered_map<std::string, Failure>* failures = nullptr;  // by relative path
    std::vector<std::string>* keys = nullptr;          // companion key of each entry (parallel to entries)
    std::unordered_map<std::string, int64_t>* transit = nullptr;  // key -> mtime of a Syncthing temporary
    // Folders the last scan could not list (no permission, nested too deep):
    // each is logged once when it appears, not on every scan.
    std::unordered_set<std::string>* scan_errors = nullptr;
    std::string* scan_news = nullptr;  // new ones since the last log, one per line
};
Heap heap;

struct State {
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
    int pending = 0, settling = 0, stuck = 0, unlisted = 0;
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
State st;

uint32 path_hash(const std::string& s) {
    uint32 h = 2166136261u;  // FNV-1a: stable across processes and restarts
    for (unsigned char c : s) h = (h ^ c) * 16777619u;
    return h;
}

// Raw inbox names (newlines, invalid UTF-8) escaped for the server log, as
// the ledger shows them, into a caller's buffer (the worker's long-lived
// memory context must not collect a string per log line).
struct LogText {
    char text[2048];
    explicit LogText(const char* raw) {
        pf_core_call("escaping a name for the log", [&] {
            std::string safe = pf::escape_for_log(raw);
            snprintf(text, sizeof text, "%s", safe.c_str());
        });
    }
};

void set_problem(const char* status, const char* fmt, ...) pg_attribute_printf(2, 3);
void set_problem(const char* status, const char* fmt, ...) {
    snprintf(st.status, sizeof st.status, "%s", status);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st.problem, sizeof st.problem, fmt, ap);
    va_end(ap);
}

void close_dirs() {
    if (st.inbox_fd >= 0) close(st.inbox_fd);
    if (st.storage_fd >= 0) close(st.storage_fd);
    st.inbox_fd = st.storage_fd = -1;
    pf_core_call("stopping inotify", [] {
        delete heap.watcher;
        heap.watcher = nullptr;
    });
}

// Overlapping roots are refused with a clear message, logged once per
// configuration rather than on every 5 s retry.
bool refuse_roots(const char* conflict) {
    if (conflict == nullptr || conflict[0] == '\0') return false;
    static char logged[512] = "";
    if (strcmp(logged, conflict) != 0) {
        ereport(WARNING, (errmsg("photofactory %s: not ingesting: %s", g_worker.label, conflict),
                          errhint("The library must not be inside the inbox (it would be ingested again) nor the "
                                  "inbox inside the library. Point the two settings at separate folders and reload.")));
        snprintf(logged, sizeof logged, "%s", conflict);
    }
    set_problem("ERROR", "Refusing to ingest: %s", conflict);
    return true;
}

bool open_dirs() {
    if (st.inbox_fd >= 0 && st.storage_fd >= 0) return true;
    close_dirs();
    if (guc_inbox_dir[0] == '\0' || guc_storage_dir[0] == '\0') {
        set_problem("WARNING", "Idle: photofactory.%s is not set", guc_inbox_dir[0] == '\0' ? "inbox_dir" : "storage_dir");
        return false;
    }
    // First by name, before the library root may be created inside the inbox.
    const char* in_dir = guc_inbox_dir;
    const char* lib_dir = guc_storage_dir;
    if (refuse_roots(pf_core_call_cstring("checking the folders", [&] {
            return pf::roots_conflict(in_dir, -1, lib_dir, -1);
        })))
        return false;
    // The roots themselves are chosen by the superuser and may be links;
    // nothing below them is ever followed.
    st.inbox_fd = open(guc_inbox_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (st.inbox_fd < 0) {
        set_problem("ERROR", "Cannot open inbox %s: %s", guc_inbox_dir, strerror(errno));
        return false;
    }
    if (mkdir(guc_storage_dir, 0750) == 0) {
        if (storage_dir_mode() != 0) (void)chmod(guc_storage_dir, storage_dir_mode());
    } else if (errno != EEXIST) {
        set_problem("ERROR", "Cannot create storage %s: %s", guc_storage_dir, strerror(errno));
        close_dirs();
        return false;
    }
    st.storage_fd = open(guc_storage_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (st.storage_fd < 0) {
        set_problem("ERROR", "Cannot open storage %s: %s", guc_storage_dir, strerror(errno));
        close_dirs();
        return false;
    }
    // Then the folders themselves: links and other spellings of one folder.
    int in_fd = st.inbox_fd, lib_fd = st.storage_fd;
    if (refuse_roots(pf_core_call_cstring("checking the folders", [&] {
            return pf::roots_conflict(in_dir, in_fd, lib_dir, lib_fd);
        }))) {
        close_dirs();
        return false;
    }
    snprintf(st.inbox_dir, sizeof st.inbox_dir, "%s", guc_inbox_dir);
    snprintf(st.storage_dir, sizeof st.storage_dir, "%s", guc_storage_dir);
    ereport(LOG, (errmsg("photofactory %s: watching inbox \"%s\", storing into \"%s\" (%d librarian%s)",
                         g_worker.label, st.inbox_dir, st.storage_dir, guc_librarian_workers,
                         guc_librarian_workers == 1 ? "" : "s")));
    st.recovered = false;
    st.dirty = true;
    st.status[0] = '\0';
    snprintf(st.status, sizeof st.status, "OK");
    st.problem[0] = '\0';
    return true;
}

// The folders are pinned by the descriptors opened above; the settings name
// paths. A folder renamed and recreated, or a disk mounted over it, would
// leave the librarian working in the old tree (new photos unseen, files
// stored where the ledger does not say). Checked before each scan and batch:
// when a path no longer leads to the open folder, both are reopened.
bool roots_moved() {
    if (st.inbox_fd < 0 || st.storage_fd < 0) return false;
    auto moved = [](const char* path, int fd) {
        struct stat by_path, by_fd;
        if (fstat(fd, &by_fd) != 0 || stat(path, &by_path) != 0) return true;
        return by_path.st_dev != by_fd.st_dev || by_path.st_ino != by_fd.st_ino;
    };
    const char* which = moved(st.inbox_dir, st.inbox_fd)       ? "photofactory.inbox_dir"
                        : moved(st.storage_dir, st.storage_fd) ? "photofactory.storage_dir"
                                                               : nullptr;
    if (which == nullptr) return false;
    ereport(LOG, (errmsg("photofactory %s: %s (%s) no longer leads to the folder in use (renamed, replaced or "
                         "mounted over); reopening the inbox and the library",
                         g_worker.label, which, which[14] == 'i' ? st.inbox_dir : st.storage_dir)));
    close_dirs();
    return true;
}

void start_watcher() {
    if (heap.watcher != nullptr || st.inotify_failed) return;
    char err[512] = "";
    struct Arg {
        int fd;
        char* err;
    } a{st.inbox_fd, err};
    auto fn = [](void* p) {
        auto* a = static_cast<Arg*>(p);
        pf_core_call("starting inotify", [a] { heap.watcher = new pf::InboxWatcher(a->fd); });
    };
    if (!run_guarded("starting inotify", fn, &a, err, sizeof err)) {
        st.inotify_failed = true;
        ereport(LOG, (errmsg("photofactory %s: inotify unavailable (%s); relying on scans every %d s",
                             g_worker.label, err, guc_scan_interval_s)));
        return;
    }
    if (heap.watcher->incomplete())
        ereport(LOG, (errmsg("photofactory %s: inotify watch limit reached; folders beyond it are found by scans every %d s",
                             g_worker.label, guc_scan_interval_s),
                      errhint("Raise fs.inotify.max_user_watches.")));
}

IngestTarget target() {
    return IngestTarget{st.inbox_fd, st.storage_fd, st.inbox_dir, st.storage_dir, g_worker.index};
}

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
    if (strcmp(st.problem, st.reported_problem) == 0) return false;
    const char* which = st.problem[0] != '\0' ? st.problem : st.reported_problem;
    if (!shared_problem(which) || g_worker.index == 0) {
        if (st.problem[0] != '\0')
            ereport(LOG, (errmsg("photofactory %s: %s", g_worker.label, st.problem)));
        else
            ereport(LOG, (errmsg("photofactory %s: resumed (was: %s)", g_worker.label, st.reported_problem)));
    }
    snprintf(st.reported_problem, sizeof st.reported_problem, "%s", st.problem);
    return true;
}

void heartbeat(const char* task, bool force) {
    TimestampTz now = GetCurrentTimestamp();
    force = problem_changed() || force;
    if (!force && now < st.next_heartbeat) return;
    // Several librarians share one service row: _librarian_beat writes this
    // one's state and the row with the aggregate of all (the worst status,
    // the whole backlog), so one paused librarian is never hidden by a
    // healthy one.
    (void)librarian_worst_severity(g_worker.index, severity(st.status));
    char* stuck = pf_core_call_cstring("listing stuck files", [] {
        std::string out;
        for (const auto& kv : *heap.failures)
            if (kv.second.given_up) out += pf::sanitize_rel_path(kv.first) + "\n";
        return out;
    });
    LibrarianReport r{g_worker.index, guc_librarian_workers > 0 ? guc_librarian_workers : 1, st.status, task,
                      st.inbox_dir, st.scan_to_report, st.scan_ready, st.scan_settling, st.scan_stuck, st.unlisted,
                      stuck};
    if (run_in_transaction("librarian heartbeat", heartbeat_step, &r)) st.scan_to_report = false;
    pfree(stuck);
    st.next_heartbeat = TimestampTzPlusMilliseconds(now, guc_heartbeat_interval_s * 1000L);
}

void idle_task(char* buf, size_t n) {
    if (st.problem[0] != '\0') {
        snprintf(buf, n, "%s", st.problem);
        return;
    }
    char extra[160] = "";
    if (st.unlisted > 0)
        snprintf(extra, sizeof extra, "; %d folder(s) cannot be read and are skipped (see the server log)", st.unlisted);
    else if (st.stuck > 0)
        snprintf(extra, sizeof extra, "; %d file(s) cannot be moved and stay in the inbox (see the server log)", st.stuck);
    else if (st.settling > 0)
        snprintf(extra, sizeof extra, "; %d file(s) settling", st.settling);
    snprintf(buf, n, "Watching %s (%s): %ld ingested, %ld duplicates, %ld rejected%s", st.inbox_dir,
             heap.watcher ? "inotify + scans" : "scans", st.ingested, st.duplicates, st.rejected, extra);
}

void record(const IngestOutcome& o, const char* rel) {
    switch (o.result) {
        case IngestResult::Ingested:
        case IngestResult::Sidecar: st.ingested++; break;
        case IngestResult::Duplicate: st.duplicates++; break;
        case IngestResult::Rejected: st.rejected++; break;
        case IngestResult::Failed:
            st.failed++;
            if (o.storage_paused) {
                set_problem("ERROR", "Paused: storage is full, read-only or not writable (%s); retrying every %ld s", LogText(o.reason).text,
                            kDiskFullRetryMs / 1000);
                st.paused_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), kDiskFullRetryMs);
            }
            break;
        default: break;
    }
    if (o.result != IngestResult::Failed)
        pf_core_call("bookkeeping", [rel] { heap.failures->erase(std::string(rel)); });
}

void scan_step(void* arg) {
    (void)arg;
    int n = guc_librarian_workers > 0 ? guc_librarian_workers : 1;
    int me = g_worker.index;
    int fd = st.inbox_fd;
    int lib_fd = st.storage_fd;
    int unlisted = 0;
    pf_core_call("scanning the inbox", [&] {
        // Never into the library, whatever way it is reached (a bind mount).
        struct stat lib;
        pf::FileIdentity skip;
        if (fstat(lib_fd, &lib) == 0) skip = pf::identity_of(lib);
        std::vector<pf::InboxEntry> found;
        std::vector<std::string> found_keys;
        auto* transit = new std::unordered_map<std::string, int64_t>();
        pf::ScanStats stats;
        pf::scan_inbox(
            fd,
            [&](const pf::InboxEntry& e) {
                if (e.verdict == pf::NameVerdict::Temporary) {
                    // A companion still being synced: its group waits for it.
                    std::string final_name = pf::syncthing_final_name(e.name);
                    if (final_name.empty()) return;
                    std::string rel = e.rel_path.substr(0, e.rel_path.size() - e.name.size()) + final_name;
                    (*transit)[pf::inbox_companion_key(rel)] = static_cast<int64_t>(e.st.st_mtime);
                    return;
                }
                if (e.verdict != pf::NameVerdict::Candidate) return;
                found.push_back(e);
                found_keys.push_back(pf::inbox_companion_key(e.rel_path));
            },
            stats, 64, &skip);
        // Members of a group next to each other, so a batch never splits one.
        std::vector<size_t> order(found.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return found_keys[a] < found_keys[b]; });
        auto* entries = new std::vector<pf::InboxEntry>();
        auto* keys = new std::vector<std::string>();
        entries->reserve(found.size());
        keys->reserve(found.size());
        for (size_t i : order) {
            entries->push_back(found[i]);
            keys->push_back(found_keys[i]);
        }
        delete heap.entries;
        delete heap.keys;
        delete heap.transit;
        heap.entries = entries;
        heap.keys = keys;
        heap.transit = transit;
        // Names are raw bytes: made printable before they reach the log.
        std::unordered_set<std::string> now;
        for (const std::string& e : stats.errors) {
            std::string safe = pf::sanitize_rel_path(e);
            // Every librarian scans the whole tree; one of them logs each folder.
            if (heap.scan_errors->count(safe) == 0 && static_cast<int>(path_hash(safe) % n) == me)
                *heap.scan_news += safe + "\n";
            now.insert(std::move(safe));
        }
        heap.scan_errors->swap(now);
        unlisted = static_cast<int>(heap.scan_errors->size());
    });
    st.unlisted = unlisted;
}

// Logs, once each, the folders the scan could not list.
void log_scan_news() {
    char* news = pf_core_call_cstring("scan report", [] {
        std::string s;
        s.swap(*heap.scan_news);
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

// Files are ingested in batches: one data-sync pass, two commits and one
// fsync per folder for up to kBatchFiles files, which is what makes small
// files fast. The byte cap keeps a batch of large files short, so a SIGTERM
// or a crash costs little re-reading.
constexpr int kBatchFiles = 128;
constexpr int64 kBatchBytes = 64LL << 20;

struct Pending {
    size_t entry;        // index in heap.entries
    char give_up[700];   // non-empty: move to Rejected/ with this reason
    bool may_wait;       // a sidecar still inside photofactory.sidecar_wait
    double wait_left;    // seconds until that wait ends
};
Pending batch_files[kBatchFiles];
BatchFile batch_reqs[kBatchFiles];
IngestOutcome batch_outs[kBatchFiles];

void note_settle(double seconds_left) {
    TimestampTz ready = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), static_cast<int64>(seconds_left * 1000.0) + 10);
    if (st.next_settle == 0 || ready < st.next_settle) st.next_settle = ready;
}

// With several librarians, each claims a companion group before ingesting it
// (a session advisory lock on the group key's hash, held across the batch's
// transactions): work is shared dynamically, so a few large files still keep
// every librarian busy, and one librarian always takes a whole group.
constexpr int32 kGroupLockClass = 1885693506;
void ingest_batch_and_record(int n);
int32 batch_claims[kBatchFiles];
bool batch_claimed[kBatchFiles];

struct ClaimArg {
    int n;
    bool release;
};

void claim_step(void* arg) {
    auto* a = static_cast<ClaimArg*>(arg);
    Datum* keys = static_cast<Datum*>(palloc0(sizeof(Datum) * (a->n + 1)));
    for (int i = 0; i < a->n; i++) keys[i] = Int32GetDatum(batch_claims[i]);
    Oid type = INT4ARRAYOID;
    Datum arr = PointerGetDatum(construct_array(keys, a->n, INT4OID, 4, true, TYPALIGN_INT));
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT u.k, pg_catalog.%s(%d::pg_catalog.int4, u.k)"
             "  FROM pg_catalog.unnest($1::pg_catalog.int4[]) WITH ORDINALITY AS u(k, o) ORDER BY u.o",
             a->release ? "pg_advisory_unlock" : "pg_try_advisory_lock", kGroupLockClass);
    if (SPI_execute_with_args(sql, 1, &type, &arr, nullptr, false, 0) != SPI_OK_SELECT || static_cast<int>(SPI_processed) != a->n)
        elog(ERROR, "group claims failed");
    for (int i = 0; i < a->n && !a->release; i++) {
        bool isnull;
        batch_claimed[i] = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
    }
}

// Ingests the collected batch and does the per-file bookkeeping.
void flush_batch(int n) {
    // The scan's list is of another tree once the folders moved: start again
    // (st.inbox_fd < 0: found moved by an earlier batch of this round).
    if (st.inbox_fd < 0 || roots_moved()) return;
    if (n == 0) return;
    int nclaims = 0;
    if (guc_librarian_workers > 1) {
        // One claim per group (members are adjacent); drop the groups another librarian holds.
        for (int i = 0; i < n; i++) {
            int32 k = static_cast<int32>(path_hash((*heap.keys)[batch_files[i].entry]));
            if (nclaims == 0 || batch_claims[nclaims - 1] != k || (*heap.keys)[batch_files[i].entry] != (*heap.keys)[batch_files[i - 1].entry])
                batch_claims[nclaims++] = k;
        }
        ClaimArg claim{nclaims, false};
        if (!run_in_transaction("claiming files", claim_step, &claim)) return;
        int kept = 0, c = -1;
        for (int i = 0; i < n; i++) {
            if (i == 0 || (*heap.keys)[batch_files[i].entry] != (*heap.keys)[batch_files[i - 1].entry]) c++;
            if (batch_claimed[c]) batch_files[kept++] = batch_files[i];
        }
        n = kept;
        // Release only what was taken.
        int held = 0;
        for (int i = 0; i < nclaims; i++)
            if (batch_claimed[i]) batch_claims[held++] = batch_claims[i];
        nclaims = held;
    }
    if (n > 0) ingest_batch_and_record(n);
    if (nclaims > 0) {
        ClaimArg release{nclaims, true};
        run_in_transaction("releasing claims", claim_step, &release);
    }
}

void ingest_batch_and_record(int n) {
    for (int i = 0; i < n; i++) {
        const pf::InboxEntry& e = (*heap.entries)[batch_files[i].entry];
        batch_reqs[i].rel_path = e.rel_path.c_str();
        batch_reqs[i].force_reject = batch_files[i].give_up[0] ? batch_files[i].give_up : nullptr;
        batch_reqs[i].may_wait = batch_files[i].may_wait;
        batch_reqs[i].group_key = (*heap.keys)[batch_files[i].entry].c_str();
    }
    char task[256];
    snprintf(task, sizeof task, "Ingesting a batch of %d files from %s", n, st.inbox_dir);
    pgstat_report_activity(STATE_RUNNING, task);
    heartbeat(task, false);
    ingest_batch(target(), batch_reqs, n, batch_outs);
    st.last_done = GetCurrentTimestamp();
    for (int i = 0; i < n; i++) {
        const pf::InboxEntry& e = (*heap.entries)[batch_files[i].entry];
        IngestOutcome& out = batch_outs[i];
        if (out.needs_recovery) st.recovered = false;
        // Names are raw bytes: escaped, so no name can break or forge a log line.
        char* src = pf_core_call_cstring("log line", [&] { return pf::log_escape_path(st.inbox_dir, e.rel_path); });
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
            st.bytes += e.st.st_size;
        if (out.result == IngestResult::Unstable || out.result == IngestResult::Waiting) {
            pfree(src);
            pfree(dst);
        }
        if (out.result == IngestResult::Unstable) {
            st.settling++;
            st.dirty = true;  // look again once it has settled
            continue;
        }
        if (out.result == IngestResult::Waiting) {  // a sidecar before its photo
            st.settling++;
            note_settle(batch_files[i].wait_left);
            continue;
        }
        if (out.result == IngestResult::Failed && !out.storage_paused) {
            int attempts = 0;
            bool gave_up = batch_files[i].give_up[0] != '\0';
            const char* reason = out.reason;
            pf_core_call("bookkeeping", [&] {
                Failure& f = (*heap.failures)[e.rel_path];
                attempts = ++f.attempts;
                f.last_error = reason;
                f.given_up = gave_up;
                f.mtime = e.st.st_mtime;
                f.ctime = e.st.st_ctime;
                f.size = e.st.st_size;
            });
            if (gave_up) {
                st.stuck++;
                // Every librarian may try the file (work is shared); one of them warns.
                int owner = static_cast<int>(path_hash((*heap.keys)[batch_files[i].entry]) %
                                             static_cast<uint32>(guc_librarian_workers > 0 ? guc_librarian_workers : 1));
                ereport(owner == g_worker.index ? WARNING : DEBUG1, (errmsg("photofactory %s: leaving \"%s\" in the inbox: it cannot be moved, not even to Rejected/: %s",
                                         g_worker.label, src, LogText(out.reason).text),
                                  errhint("Check that the server's user may rename files in that folder; the file is retried once it changes.")));
            } else {
                ereport(LOG, (errmsg("photofactory %s: could not ingest \"%s\"%s%s%s (attempt %d of %d): %s", g_worker.label,
                                     src, dst[0] ? " into \"" : "", dst, dst[0] ? "\"" : "", attempts, kMaxAttempts,
                                     LogText(out.reason).text)));
            }
        }
        pfree(src);
        pfree(dst);
        record(out, e.rel_path.c_str());
    }
}

// What the scan found: ready (settled, not given up), settling, stuck. A
// backlog appearing or going away starts or ends a round: reported at once,
// and the end of a round is summed up in the log.
void count_backlog(const struct timespec& now) {
    int ready = 0, settling = 0, stuck = 0;
    pf_core_call("counting the backlog", [&] {
        for (const pf::InboxEntry& e : *heap.entries) {
            if (e.type == pf::EntryType::Regular && pf::seconds_since_change(e.st, now) < guc_settle_time_s) {
                settling++;
                continue;
            }
            auto it = heap.failures->find(e.rel_path);
            if (it != heap.failures->end() && it->second.given_up && it->second.mtime == e.st.st_mtime &&
                it->second.ctime == e.st.st_ctime && it->second.size == e.st.st_size) {
                stuck++;
                continue;
            }
            ready++;
        }
    });
    st.scan_ready = ready;
    st.scan_settling = settling;
    st.scan_stuck = stuck;
    st.scan_to_report = true;
    bool busy = ready > 0;
    if (busy == st.busy) return;
    st.busy = busy;
    TimestampTz now_ts = GetCurrentTimestamp();
    if (busy) {
        st.round_start = now_ts;
        st.round_base[0] = st.ingested;
        st.round_base[1] = st.duplicates;
        st.round_base[2] = st.rejected;
        st.round_base_bytes = st.bytes;
    } else {
        long ing = st.ingested - st.round_base[0], dup = st.duplicates - st.round_base[1],
             rej = st.rejected - st.round_base[2];
        double mb = static_cast<double>(st.bytes - st.round_base_bytes) / 1e6;
        double secs = static_cast<double>((st.last_done > st.round_start ? st.last_done : now_ts) - st.round_start) / 1e6;
        if (ing + dup + rej > 0)
            ereport(LOG, (errmsg("photofactory %s: round done in %.1f s: %ld ingested, %ld duplicates, %ld rejected, "
                                 "%.1f MB (%.1f files/s, %.1f MB/s)",
                                 g_worker.label, secs, ing, dup, rej, mb, secs > 0 ? (ing + dup + rej) / secs : 0.0,
                                 secs > 0 ? mb / secs : 0.0)));
    }
    char task[768];
    if (busy)
        snprintf(task, sizeof task, "Ingesting %d file(s) from %s", ready, st.inbox_dir);
    else
        idle_task(task, sizeof task);
    heartbeat(task, true);
}

// Ingests the settled files of this librarian's share of the inbox, a
// companion group at a time: a group waits until every member has settled
// and no member is still being synced.
void process_entries() {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    const size_t total = heap.entries->size();
    st.pending = static_cast<int>(total);
    count_backlog(now);
    st.settling = 0;
    st.stuck = 0;
    st.next_settle = 0;
    char task[768];
    int nb = 0;
    int64 batch_bytes = 0;
    // Several librarians walk the same list from different starting points
    // (a group boundary near i/N of it), so they rarely contend for a claim.
    size_t start = 0;
    if (guc_librarian_workers > 1 && total > 0) {
        start = total * static_cast<size_t>(g_worker.index % guc_librarian_workers) / guc_librarian_workers;
        while (start > 0 && start < total && (*heap.keys)[start] == (*heap.keys)[start - 1]) start++;
        if (start >= total) start = 0;
    }
    size_t g = start;
    bool wrapped = start == 0;
    while (true) {
        if (g >= total) {
            if (wrapped) break;
            wrapped = true;
            g = 0;
        }
        if (wrapped && start > 0 && g >= start) break;
        if (worker_should_exit() || ConfigReloadPending) break;
        if (GetCurrentTimestamp() < st.paused_until) break;
        if (st.inbox_fd < 0) break;  // the folders moved (roots_moved): rescan
        size_t end = g + 1;
        while (end < total && (*heap.keys)[end] == (*heap.keys)[g]) end++;
        if (wrapped && start > 0 && end > start) end = start;  // never re-visit the first group
        const size_t gsize = end - g;

        bool hold = false;
        for (size_t i = g; i < end; i++) {
            const pf::InboxEntry& e = (*heap.entries)[i];
            if (e.type != pf::EntryType::Regular) continue;
            double age = pf::seconds_since_change(e.st, now);
            if (age < guc_settle_time_s) {
                hold = true;
                note_settle(guc_settle_time_s - age);
            }
        }
        bool in_transit = false;
        pf_core_call("bookkeeping", [&] {
            auto it = heap.transit->find((*heap.keys)[g]);
            // An abandoned temporary (no change for 15 min) holds nothing back.
            in_transit = it != heap.transit->end() && now.tv_sec - it->second < 900;
        });
        if (in_transit) {
            hold = true;
            note_settle(guc_settle_time_s);
        }
        if (hold) {
            st.settling += static_cast<int>(gsize);
            g = end;
            continue;
        }
        // A group is never split across batches (unless absurdly large).
        if (nb > 0 && nb + static_cast<int>(std::min<size_t>(gsize, kBatchFiles)) > kBatchFiles) {
            flush_batch(nb);
            nb = 0;
            batch_bytes = 0;
        }
        for (size_t i = g; i < end; i++) {
            const pf::InboxEntry& e = (*heap.entries)[i];
            // A file that failed kMaxAttempts times goes to Rejected/ with its last
            // error, instead of being retried (and logged) forever; one that cannot
            // even be moved there waits, untouched, until it changes.
            Pending& p = batch_files[nb];
            p.entry = i;
            p.give_up[0] = '\0';
            bool skip = false;
            pf_core_call("bookkeeping", [&] {
                auto it = heap.failures->find(e.rel_path);
                if (it == heap.failures->end()) return;
                Failure& f = it->second;
                if (f.mtime != e.st.st_mtime || f.ctime != e.st.st_ctime || f.size != e.st.st_size) {
                    heap.failures->erase(it);  // changed since: a fresh start
                    return;
                }
                if (f.given_up) skip = true;
                else if (f.attempts >= kMaxAttempts)
                    snprintf(p.give_up, sizeof p.give_up, "failed %d times, last error: %s", f.attempts, f.last_error.c_str());
            });
            if (skip) {
                st.stuck++;
                continue;
            }
            double age = pf::seconds_since_change(e.st, now);
            p.may_wait = age < guc_sidecar_wait_s;
            p.wait_left = guc_sidecar_wait_s - age;
            nb++;
            batch_bytes += e.st.st_size;
            if (nb == kBatchFiles) {
                flush_batch(nb);
                nb = 0;
                batch_bytes = 0;
            }
        }
        g = end;
        if (nb > 0 && batch_bytes >= kBatchBytes) {
            snprintf(task, sizeof task, "Processing %zu/%zu files in %s", g, total, st.inbox_dir);
            pgstat_report_activity(STATE_RUNNING, task);
            heartbeat(task, false);
            flush_batch(nb);
            nb = 0;
            batch_bytes = 0;
            CHECK_FOR_INTERRUPTS();
        }
    }
    // Files collected but not yet touched wait for the next round when the
    // worker is stopping or ingestion paused.
    if (nb > 0 && !worker_should_exit() && GetCurrentTimestamp() >= st.paused_until && st.inbox_fd >= 0) {
        snprintf(task, sizeof task, "Processing the last %d of %zu files in %s", nb, total, st.inbox_dir);
        pgstat_report_activity(STATE_RUNNING, task);
        heartbeat(task, false);
        flush_batch(nb);
    }
}

void serve_requests() {
    char path[MAXPGPATH];
    int slot;
    // The inbox as configured, without trailing slashes.
    size_t plen = strlen(st.inbox_dir);
    while (plen > 1 && st.inbox_dir[plen - 1] == '/') plen--;
    while ((slot = take_ingest_request(path, sizeof path)) >= 0) {
        const char* rel = nullptr;
        if (st.inbox_fd >= 0 && strncmp(path, st.inbox_dir, plen) == 0 && path[plen] == '/') rel = path + plen + 1;
        if (rel == nullptr) {
            complete_ingest_request(slot, "refused", "", "", "path is not inside photofactory.inbox_dir");
            continue;
        }
        // Exactly the scan's rules, and one regular file only.
        int fd = st.inbox_fd;
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

}  // namespace

void librarian_main() {
    const int index = g_worker.index;
    // A previous incarnation may still be finishing its file: wait for its slot.
    while (!try_lock_librarian_slot(index)) {
        if (worker_should_exit()) proc_exit(0);
        pgstat_report_activity(STATE_IDLE, "waiting for the previous librarian in this slot to exit");
        worker_sleep(1000);
    }
    register_librarian(index, MyLatch);
    before_shmem_exit(unregister_at_exit, Int32GetDatum(index));
    ensure_core_initialized();
    pf_core_call("librarian start-up", [] {
        heap.failures = new std::unordered_map<std::string, Failure>();
        heap.scan_errors = new std::unordered_set<std::string>();
        heap.scan_news = new std::string();
    });
    st.seen_wake = g_shared ? pg_atomic_read_u64(&g_shared->wake_requests) : 0;

    bool announced_wait = false;
    while (!worker_should_exit()) {
        if (worker_reload_if_pending() &&
            (strcmp(st.inbox_dir, guc_inbox_dir) != 0 || strcmp(st.storage_dir, guc_storage_dir) != 0)) {
            close_dirs();
            st.inotify_failed = false;
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
            heartbeat(st.problem, false);
            worker_sleep(5000);
            continue;
        }
        if (!st.recovered) {
            int n = recover_journal(target());
            if (n > 0) ereport(LOG, (errmsg("photofactory %s: recovery resolved %d interrupted moves", g_worker.label, n)));
            st.recovered = true;
        }
        start_watcher();
        if (heap.watcher != nullptr) {
            bool changed = false;
            pf_core_call("reading inotify events", [&] { changed = heap.watcher->drain(); });
            if (changed) st.dirty = true;
        }
        if (g_shared != nullptr) {
            uint64 wake = pg_atomic_read_u64(&g_shared->wake_requests);
            if (wake != st.seen_wake) {
                st.seen_wake = wake;
                st.dirty = true;
            }
        }
        serve_requests();

        if (now >= st.next_scan || (st.next_settle != 0 && now >= st.next_settle)) st.dirty = true;
        if (st.paused_until != 0 && now >= st.paused_until) {
            st.paused_until = 0;
            st.problem[0] = '\0';
            snprintf(st.status, sizeof st.status, "OK");
            st.dirty = true;
        }
        if (!guc_ingest_enabled) {
            set_problem("WARNING", "Paused: photofactory.ingest_enabled is off");
        } else if (strncmp(st.problem, "Paused: photofactory.ingest_enabled", 35) == 0) {
            st.problem[0] = '\0';
            snprintf(st.status, sizeof st.status, "OK");
        }

        if (st.dirty && guc_ingest_enabled && st.paused_until == 0) {
            st.dirty = false;
            pgstat_report_activity(STATE_RUNNING, "scanning the inbox");
            char err[512] = "";
            if (run_guarded("scanning the inbox", scan_step, nullptr, err, sizeof err)) {
                log_scan_news();
                process_entries();
            } else {
                set_problem("ERROR", "Cannot scan %s: %s", st.inbox_dir, err);
                close_dirs();
            }
            st.next_scan = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), guc_scan_interval_s * 1000L);
        }

        if (st.problem[0] == '\0')
            snprintf(st.status, sizeof st.status, "%s", st.stuck > 0 || st.unlisted > 0 ? "WARNING" : "OK");
        char task[768];
        idle_task(task, sizeof task);
        pgstat_report_activity(STATE_IDLE, task);
        heartbeat(task, false);

        now = GetCurrentTimestamp();
        long timeout = std::min({ms_until(st.next_scan, now), ms_until(st.next_heartbeat, now),
                                 ms_until(st.next_settle, now), ms_until(st.paused_until, now)});
        if (st.dirty) timeout = 0;
        if (timeout == LONG_MAX) timeout = 5000;
        int events = WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH;
        pgsocket sock = PGINVALID_SOCKET;
        if (heap.watcher != nullptr) {
            events |= WL_SOCKET_READABLE;
            sock = heap.watcher->fd();
        }
        if (timeout > 0) {
            int rc = WaitLatchOrSocket(MyLatch, events, sock, timeout, PG_WAIT_EXTENSION);
            ResetLatch(MyLatch);
            // inotify fires while a file is still being written: give the writer
            // a moment so one scan sees many events' worth of changes.
            if (rc & WL_SOCKET_READABLE) worker_sleep(200);
        }
        CHECK_FOR_INTERRUPTS();
    }
    if (st.inbox_dir[0] != '\0')
        ereport(LOG, (errmsg("photofactory %s: stopped watching inbox \"%s\"", g_worker.label, st.inbox_dir)));
    // Its row must not go on saying what it was doing.
    run_in_transaction("librarian stopping", [](void*) { if (extension_ready()) send_librarian_gone(g_worker.index); },
                       nullptr);
    close_dirs();
    proc_exit(0);
}

}  // namespace pf::pg
