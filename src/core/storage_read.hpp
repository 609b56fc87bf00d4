// Hashing a file as its storage holds it, not as the page cache does: how the
// backup protocol verifies a fresh copy and how the scrub re-verifies old ones.
//
// The file is read with O_DIRECT (set on the descriptor for the duration) in
// large aligned blocks, so the reads go to the device whatever the cache holds
// (dirty pages are written back first by the kernel). Filesystems without
// O_DIRECT (some FUSE mounts) get the fallback: cached pages dropped, buffered
// reads. Either way the cached pages are dropped afterwards, so a scrub does
// not evict the server's working set.
//
// Reading and hashing overlap: above two blocks, a helper thread reads the
// next block while the caller hashes this one. The helper only reads into
// buffers (no PostgreSQL, no allocation) and runs with every signal blocked.
#pragma once

#include "core/core_guard.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace pf {

enum class StorageRead {
    Auto,      // O_DIRECT when the filesystem allows it, else dropped cache + buffered reads
    Buffered,  // the fallback only (tests)
};

struct StorageHash {
    std::string hex;          // 64 lower-case hex digits
    std::uint64_t bytes = 0;  // bytes read
    bool direct = false;      // read with O_DIRECT
};

// Block size of the reads (a multiple of every logical block size in use).
constexpr std::size_t kStorageBlock = std::size_t(1) << 20;

// Hashes fd from offset 0 to its end. throttle (may be empty) is called on the
// calling thread with each block's size and may throw (the read stops, the
// helper is joined). A read error throws IoError.
StorageHash hash_from_storage(int fd, const std::function<void(std::size_t)>& throttle = nullptr,
                              StorageRead mode = StorageRead::Auto);

}  // namespace pf
