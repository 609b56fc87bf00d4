#include "core/direct_writer.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/errors.hpp"
#include "core/imaging_runtime.hpp"

namespace pf {

DirectWriter::DirectWriter(int fd, Mode mode) : fd_(fd) {
    flags_ = fcntl(fd, F_GETFL);
    if (mode == Mode::Auto && flags_ >= 0 && fcntl(fd, F_SETFL, flags_ | O_DIRECT) == 0) direct_ = true;
    for (auto& b : blocks_) b.reset(new PooledBlock);
    SignalsBlocked blocked;  // inherited by the thread: no backend signal lands there
    thread_ = std::thread([this] { run(); });
}

DirectWriter::~DirectWriter() {
    {
        std::lock_guard<std::mutex> g(m_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (direct_ && flags_ >= 0) fcntl(fd_, F_SETFL, flags_);
}

unsigned char* DirectWriter::block() {
    std::unique_lock<std::mutex> g(m_);
    cv_.wait(g, [&] { return err_ != 0 || produced_ - consumed_ < kSlots; });
    if (err_ != 0) throw IoError("writing the copy", err_);
    return blocks_[produced_ % kSlots]->data();
}

void DirectWriter::commit(std::size_t n) {
    {
        std::lock_guard<std::mutex> g(m_);
        if (err_ != 0) throw IoError("writing the copy", err_);
        lens_[produced_ % kSlots] = n;
        produced_++;
        committed_ += n;
    }
    cv_.notify_all();
}

std::uint64_t DirectWriter::finish() {
    std::unique_lock<std::mutex> g(m_);
    cv_.wait(g, [&] { return err_ != 0 || consumed_ == produced_; });
    if (err_ != 0) throw IoError("writing the copy", err_);
    if (padded_end_ > committed_ && ftruncate(fd_, static_cast<off_t>(committed_)) != 0)
        throw IoError("truncating the copy to its size", errno);
    padded_end_ = 0;
    return committed_;
}

void DirectWriter::run() {
    for (;;) {
        std::uint64_t first, count, off;
        {
            std::unique_lock<std::mutex> g(m_);
            cv_.wait(g, [&] { return stop_ || consumed_ < produced_; });
            if (stop_) return;
            first = consumed_;
            count = produced_ - consumed_;  // every block waiting: one request to the device
            off = written_;
        }
        std::uint64_t bytes = 0;
        int err = write_blocks(first, count, off, &bytes);
        {
            std::lock_guard<std::mutex> g(m_);
            if (err != 0) {
                err_ = err;
            } else {
                written_ += bytes;
                consumed_ += count;
            }
        }
        cv_.notify_all();
        if (err != 0) return;
    }
}

// On the helper thread: count committed blocks from block number first, at
// off, in one vectored write. Returns 0 or the errno; *bytes: what they held.
int DirectWriter::write_blocks(std::uint64_t first, std::uint64_t count, std::uint64_t off, std::uint64_t* bytes) {
    struct iovec iov[kSlots];
    std::size_t total = 0, padded = 0;
    for (std::uint64_t i = 0; i < count; i++) {
        int slot = static_cast<int>((first + i) % kSlots);
        std::size_t n = lens_[slot];  // stable: the producer waits for this slot
        iov[i].iov_base = blocks_[slot]->data();
        iov[i].iov_len = n;
        total += n;
    }
    *bytes = total;
    std::size_t last_n = iov[count - 1].iov_len;
    if (direct_ && last_n % kPoolAlign != 0) {  // the end of the file: padded, truncated by finish()
        std::size_t len = (last_n + kPoolAlign - 1) / kPoolAlign * kPoolAlign;
        std::memset(static_cast<unsigned char*>(iov[count - 1].iov_base) + last_n, 0, len - last_n);
        iov[count - 1].iov_len = len;
        padded = len - last_n;
    }
    int iovcnt = static_cast<int>(count);
    struct iovec* v = iov;
    std::size_t left = total + padded;
    std::uint64_t at = off;
    bool started = false;
    while (left > 0) {
        ssize_t w = pwritev(fd_, v, iovcnt, static_cast<off_t>(at));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EINVAL && direct_ && !started) {
            // Took the flag, refuses the write: this and the rest buffered.
            fcntl(fd_, F_SETFL, flags_);
            direct_ = false;
            iov[count - 1].iov_len = last_n;
            left = total;
            padded = 0;
            continue;
        }
        if (w < 0) return errno;
        if (w == 0) return EIO;
        started = true;
        left -= static_cast<std::size_t>(w);
        at += static_cast<std::uint64_t>(w);
        for (std::size_t k = static_cast<std::size_t>(w); k > 0 && iovcnt > 0;) {
            if (k >= v->iov_len) {
                k -= v->iov_len;
                v++;
                iovcnt--;
            } else {
                v->iov_base = static_cast<unsigned char*>(v->iov_base) + k;
                v->iov_len -= k;
                k = 0;
            }
        }
    }
    if (padded > 0) {
        std::lock_guard<std::mutex> g(m_);
        padded_end_ = off + total + padded;
        return 0;
    }
    if (!direct_) {
        // Buffered: start the write-back every 8 MB, so that the fsync finds
        // little left to write.
        constexpr std::uint64_t kKick = 8u << 20;
        std::uint64_t end = off + total;
        if (end - flushed_ >= kKick || last_n < kPoolBlock) {
            (void)sync_file_range(fd_, static_cast<off_t>(flushed_), static_cast<off_t>(end - flushed_),
                                  SYNC_FILE_RANGE_WRITE);
            flushed_ = end;
        }
    }
    return 0;
}

}  // namespace pf
