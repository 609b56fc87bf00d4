#include "core/storage_read.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "core/block_pool.hpp"
#include "core/errors.hpp"
#include "core/imaging_runtime.hpp"
#include "core/sha256.hpp"

namespace pf {
namespace {

constexpr std::size_t kAlign = kPoolAlign;
static_assert(kStorageBlock == kPoolBlock, "a read fills one pooled block");

// Sets O_DIRECT for its lifetime (when the filesystem takes it).
class DirectMode {
public:
    DirectMode(int fd, bool want) : fd_(fd) {
        flags_ = fcntl(fd, F_GETFL);
        if (want && flags_ >= 0 && fcntl(fd, F_SETFL, flags_ | O_DIRECT) == 0) on_ = true;
    }
    ~DirectMode() {
        if (on_) fcntl(fd_, F_SETFL, flags_);
    }
    bool on() const { return on_; }
    // A filesystem that accepted the flag but refuses a read: the rest
    // buffered (called from any reader thread).
    void off() {
        if (on_.exchange(false)) fcntl(fd_, F_SETFL, flags_);
    }

private:
    int fd_;
    int flags_ = -1;
    std::atomic<bool> on_{false};
};

// One read of up to n bytes at off; falls back to buffered reads when the
// direct read is refused (EINVAL: alignment the filesystem does not take).
ssize_t read_block(int fd, unsigned char* p, std::size_t n, off_t off, DirectMode* dm) {
    for (;;) {
        ssize_t r = pread(fd, p, n, off);
        if (r >= 0) return r;
        if (errno == EINTR) continue;
        if (errno == EINVAL && dm->on()) {
            dm->off();
            continue;
        }
        return -1;
    }
}

// A block is full unless the file ends: a short read before the end (possible
// on network filesystems) is completed by more reads.
ssize_t fill_block(int fd, unsigned char* p, std::size_t n, off_t off, DirectMode* dm) {
    std::size_t got = 0;
    while (got < n) {
        ssize_t r = read_block(fd, p + got, n - got, off + static_cast<off_t>(got), dm);
        if (r < 0) return -1;
        if (r == 0) break;
        got += static_cast<std::size_t>(r);
        if (dm->on() && got % kAlign != 0) break;  // a direct read short of alignment: the end of the file
    }
    return static_cast<ssize_t>(got);
}

// The helpers that read ahead while the caller hashes: kReaders threads each
// claim the next block of the file and read it into its slot of a ring of
// kBuffers, so that several reads are in flight at once (one O_DIRECT read at
// a time leaves a fast disk idle between requests); the caller takes the
// blocks in order. A block shorter than kStorageBlock is the end of the file.
class ReadAhead {
public:
    ReadAhead(int fd, DirectMode* dm) : fd_(fd), dm_(dm) {
        for (auto& b : bufs_) b = new PooledBlock;
        SignalsBlocked blocked;  // the threads inherit the mask: no backend signal lands there
        try {
            for (auto& t : threads_) t = std::thread([this] { run(); });
        } catch (...) {
            stop_all();
            throw;
        }
    }
    ~ReadAhead() { stop_all(); }
    ReadAhead(const ReadAhead&) = delete;
    ReadAhead& operator=(const ReadAhead&) = delete;

    // The next block in order: its data and length (0 at the end); throws on a
    // read error. The block stays valid until release().
    const unsigned char* next(std::size_t* len) {
        std::unique_lock<std::mutex> g(m_);
        int slot = static_cast<int>(consumed_ % kBuffers);
        cv_.wait(g, [&] { return ready_[slot]; });
        if (lens_[slot] < 0) throw IoError("reading back", errs_[slot]);
        *len = static_cast<std::size_t>(lens_[slot]);
        return bufs_[slot]->data();
    }
    void release() {
        {
            std::lock_guard<std::mutex> g(m_);
            ready_[consumed_ % kBuffers] = false;
            consumed_++;
        }
        cv_.notify_all();
    }

private:
    static constexpr int kReaders = 3;
    static constexpr int kBuffers = 6;

    void stop_all() {
        {
            std::lock_guard<std::mutex> g(m_);
            stop_ = true;
        }
        cv_.notify_all();
        for (auto& t : threads_)
            if (t.joinable()) t.join();
        for (auto& b : bufs_) delete b;
    }

    void run() {
        for (;;) {
            std::uint64_t block;
            {
                std::unique_lock<std::mutex> g(m_);
                cv_.wait(g, [&] { return stop_ || (claimed_ < end_ && claimed_ - consumed_ < kBuffers); });
                if (stop_ || claimed_ >= end_) return;
                block = claimed_++;
            }
            int slot = static_cast<int>(block % kBuffers);
            ssize_t n = fill_block(fd_, bufs_[slot]->data(), kStorageBlock, static_cast<off_t>(block * kStorageBlock), dm_);
            int e = n < 0 ? errno : 0;
            {
                std::lock_guard<std::mutex> g(m_);
                lens_[slot] = n;
                errs_[slot] = e;
                ready_[slot] = true;
                // The end (or an error): nothing after this block is claimed.
                if (n < static_cast<ssize_t>(kStorageBlock) && block + 1 < end_) end_ = block + 1;
            }
            cv_.notify_all();
        }
    }

    int fd_;
    DirectMode* dm_;
    PooledBlock* bufs_[kBuffers] = {};
    ssize_t lens_[kBuffers] = {};
    int errs_[kBuffers] = {};
    bool ready_[kBuffers] = {};
    std::uint64_t claimed_ = 0, consumed_ = 0, end_ = UINT64_MAX;
    bool stop_ = false;
    std::mutex m_;
    std::condition_variable cv_;
    std::thread threads_[kReaders];
};

}  // namespace

StorageHash hash_from_storage(int fd, const std::function<void(std::size_t)>& throttle, StorageRead mode) {
    StorageHash out;
    DirectMode dm(fd, mode == StorageRead::Auto);
    if (!dm.on()) {  // the buffered fallback: what is cached is dropped, so the reads go to the device
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    struct stat st;
    bool big = fstat(fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) > 2 * kStorageBlock;
    Sha256 h;
    try {
        if (big) {
            ReadAhead ra(fd, &dm);
            for (;;) {
                std::size_t n = 0;
                const unsigned char* p = ra.next(&n);
                h.update(p, n);
                ra.release();
                out.bytes += n;
                if (throttle && n > 0) throttle(n);
                if (n < kStorageBlock) break;  // the end of the file
            }
        } else {
            PooledBlock buf;
            off_t off = 0;
            for (;;) {
                ssize_t n = fill_block(fd, buf.data(), kStorageBlock, off, &dm);
                if (n < 0) throw IoError("reading back", errno);
                if (n == 0) break;
                h.update(buf.data(), static_cast<std::size_t>(n));
                off += n;
                out.bytes += static_cast<std::uint64_t>(n);
                if (throttle) throttle(static_cast<std::size_t>(n));
            }
        }
    } catch (...) {
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        throw;
    }
    out.direct = dm.on();
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    out.hex = h.hex_digest();
    return out;
}

}  // namespace pf
