// The second half of the backup copy protocol, off the copying thread: for
// each fresh temporary handed over, fsync it (it becomes durable) and hash it
// back from the storage (core/storage_read.hpp) against the ledger's value.
// While it waits for the disk on file N, the caller already reads, hashes and
// writes file N+1, so writing, flushing and reading back overlap.
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
#include <mutex>
#include <string>
#include <thread>

#include "core/unique_fd.hpp"

namespace pf {

class CopyVerifier {
public:
    struct Outcome {
        bool ok = false;
        int err = 0;          // errno of a failed fsync or read, EIO for a mismatch
        std::string message;  // what went wrong
    };

    CopyVerifier() = default;
    ~CopyVerifier();  // abandons what is queued, joins the thread
    CopyVerifier(const CopyVerifier&) = delete;
    CopyVerifier& operator=(const CopyVerifier&) = delete;

    // Queues the temporary open as fd (read access suffices) under key; what
    // names it in messages.
    void submit(std::size_t key, UniqueFd fd, const std::string& sha256, const std::string& what);
    // Waits until everything queued is done; outcome per key.
    std::map<std::size_t, Outcome> finish();

private:
    struct Job {
        std::size_t key;
        UniqueFd fd;
        std::string sha, what;
    };
    void run();
    static Outcome verify(Job& j);

    std::mutex m_;
    std::condition_variable cv_;
    std::deque<Job> queue_;
    std::map<std::size_t, Outcome> done_;
    bool closing_ = false, abandon_ = false;
    std::thread thread_;
};

}  // namespace pf
