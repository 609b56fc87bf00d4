// What "the same file" means between reading a file and acting on its
// directory entry: device, inode, size and modification time. A name can be
// pointed at other content (a swap for a symlink, a rewrite) at any moment;
// every rename and unlink first checks the entry still is what was read.
#pragma once

#include "core/core_guard.hpp"

#include <sys/stat.h>

#include <cstdint>
#include <string>

namespace pf {

struct FileIdentity {
    uint64_t dev = 0;
    uint64_t ino = 0;
    int64_t size = 0;
    int64_t mtime_sec = 0;
    int64_t mtime_nsec = 0;
    uint64_t nlink = 0;  // not compared: a hard link made elsewhere does not change the file
    bool known = false;  // false: nothing recorded (nothing is compared)
};

FileIdentity identity_of(const struct stat& st);
bool same_identity(const FileIdentity& a, const FileIdentity& b);

// The entry `name` in dirfd, not followed, compared with `want`. False when
// it is gone or differs. An unknown `want` matches whatever is there.
bool entry_is(int dirfd, const std::string& name, const FileIdentity& want);

}  // namespace pf
