// The second half of the backup copy protocol, off the copying thread: for
// each fresh temporary handed over, wait for its last writes (when handed
// over with its writer, core/direct_writer.hpp) and give it the original's
// mode and times, fsync it (it becomes durable) and hash it back from the
// storage (core/storage_read.hpp) against the ledger's value. While it waits
// for the disk on file N, the caller already reads, hashes and writes file
// N+1, so writing, flushing and reading back overlap. At most kMaxQueued
// files wait (submit() blocks): the caller stays a few files ahead, no more.
//
// The helper thread only makes system calls on descriptors it was given and
// hashes (no PostgreSQL, never a path): it starts with every signal blocked.
// Nothing is decided here: the caller renames a temporary only after finish()
// reported it durable and equal.
#pragma once

#include "core/core_guard.hpp"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <sys/stat.h>
#include <time.h>

#include "core/direct_writer.hpp"
#include "core/unique_fd.hpp"

namespace pf {

class CopyVerifier {
public:
    struct Outcome {
        bool ok = false;
        int err = 0;          // errno of a failed fsync or read, EIO for a mismatch
        std::string message;  // what went wrong
    };

    // A temporary whose writes may still be under way.
    struct PendingWrite {
        std::unique_ptr<DirectWriter> writer;  // waited for first (may be null)
        UniqueFd fd;
        mode_t mode = 0600;
        struct timespec times[2] = {};  // atime, mtime
    };

    CopyVerifier() = default;
    ~CopyVerifier();  // abandons what is queued, joins the thread
    CopyVerifier(const CopyVerifier&) = delete;
    CopyVerifier& operator=(const CopyVerifier&) = delete;

    // Queues the temporary open as fd (read access suffices) under key; what
    // names it in messages.
    void submit(std::size_t key, UniqueFd fd, const std::string& sha256, const std::string& what);
    void submit(std::size_t key, std::unique_ptr<PendingWrite> file, const std::string& sha256,
                const std::string& what);
    // Waits until everything queued is done; outcome per key.
    std::map<std::size_t, Outcome> finish();

private:
    static constexpr std::size_t kMaxQueued = 2;
    struct Job {
        std::size_t key;
        std::unique_ptr<PendingWrite> file;
        std::string sha, what;
    };
    void run();
    static Outcome verify(Job& j);

    std::mutex m_;
    std::condition_variable cv_;
    std::deque<Job> queue_;
    std::map<std::size_t, Outcome> done_;
    bool closing_ = false, abandon_ = false;
    bool gone_ = false;  // the thread has returned (finish() joins it)
    std::thread thread_;
};

}  // namespace pf
