// Writing a new file (a backup copy's temporary) with O_DIRECT, from pooled
// blocks (core/block_pool.hpp), on a helper thread: the caller fills and
// hashes block N+1 while the disk takes block N.
//
// Why not buffered writes: every byte would be copied into the page cache,
// written back later by the kernel's flusher threads (which carry neither
// this thread's I/O priority nor its CPU time), and then dropped again after
// the verification. Worse, on ext4 (data=ordered) pages written back in a
// journal transaction tie every other fsync on the filesystem -- the
// librarian's, the database's -- to the copy's data. An O_DIRECT write goes
// straight from the block to the device, at this thread's I/O priority.
//
// A file system that refuses O_DIRECT (some FUSE mounts) gets buffered writes
// with write-back started every 8 MB instead; the caller cannot tell the
// difference. The last block, when the size is not a multiple of the
// alignment, is written padded with zeros and the file truncated to its size
// afterwards. Nothing here makes the file durable: the caller fsyncs it.
#pragma once

#include "core/core_guard.hpp"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "core/block_pool.hpp"

namespace pf {

class DirectWriter {
public:
    // fd: a new, empty regular file open for writing. mode Buffered: never
    // O_DIRECT (tests of the fallback).
    enum class Mode { Auto, Buffered };
    explicit DirectWriter(int fd, Mode mode = Mode::Auto);
    ~DirectWriter();  // abandons what is queued (the caller removes the file)
    DirectWriter(const DirectWriter&) = delete;
    DirectWriter& operator=(const DirectWriter&) = delete;

    // The block to fill next (kPoolBlock bytes); waits for a free one. Throws
    // IoError (with the write's errno) once a write failed.
    unsigned char* block();
    // Queues the block from block() with its first n bytes to be written at
    // the current end. Every block but the last must be full.
    void commit(std::size_t n);
    // Waits for every write, truncates a padded end; the bytes committed.
    // Throws IoError when a write failed. May be called from another thread
    // than the one that filled the blocks (once it is done with them).
    std::uint64_t finish();

    bool direct() const { return direct_; }

private:
    static constexpr int kSlots = 4;
    void run();
    int write_blocks(std::uint64_t first, std::uint64_t count, std::uint64_t off, std::uint64_t* bytes);

    int fd_;
    int flags_ = -1;
    std::atomic<bool> direct_{false};
    std::unique_ptr<PooledBlock> blocks_[kSlots];
    std::size_t lens_[kSlots] = {};
    std::uint64_t committed_ = 0, written_ = 0, padded_end_ = 0;
    std::uint64_t flushed_ = 0;  // buffered mode: write-back started up to here (helper thread only)
    std::uint64_t produced_ = 0, consumed_ = 0;  // blocks committed / written
    int err_ = 0;
    bool stop_ = false;
    std::mutex m_;
    std::condition_variable cv_;
    std::thread thread_;
};

}  // namespace pf
