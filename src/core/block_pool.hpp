// Page-aligned 1 MiB blocks kept for reuse by the backup copy and the reads
// from the storage. A fresh block costs more than the bytes it carries: its
// pages are faulted in and zeroed on first touch, an O_DIRECT read pins them
// one by one (the slow path of get_user_pages), and freeing it unmaps them
// again. Measured on the backup copy of 250 files of 4 MB: a quarter of the
// CPU time went there (docs/performance.md, "Backup"). A block given back is
// kept (up to a bound) with its pages mapped, so the next file uses it as is.
#pragma once

#include "core/core_guard.hpp"

#include <cstddef>

namespace pf {

constexpr std::size_t kPoolBlock = std::size_t(1) << 20;  // bytes per block
constexpr std::size_t kPoolAlign = 4096;                  // alignment (every O_DIRECT logical block size)

// One block from the pool (or newly allocated); given back when it goes out of
// scope. Its content is whatever the last user left: never assume zeros.
class PooledBlock {
public:
    PooledBlock();  // throws std::bad_alloc
    ~PooledBlock();
    PooledBlock(const PooledBlock&) = delete;
    PooledBlock& operator=(const PooledBlock&) = delete;

    unsigned char* data() const { return p_; }
    static constexpr std::size_t size() { return kPoolBlock; }

private:
    unsigned char* p_;
};

// How many blocks the pool holds unused right now (tests).
std::size_t pooled_blocks_idle();

// Frees the unused blocks: for a process that goes idle (the backup worker
// between passes), so that it does not keep tens of MB it no longer needs.
void release_idle_blocks() noexcept;

}  // namespace pf
