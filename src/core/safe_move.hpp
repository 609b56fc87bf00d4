// Moving a user's file without ever overwriting or losing anything: rename
// with RENAME_NOREPLACE on one filesystem; across filesystems copy, fsync,
// verify the hash, link into place, and only then release the source.
#pragma once

#include "core/core_guard.hpp"

#include <sys/types.h>

#include <string>

#include "core/file_identity.hpp"

namespace pf {

int open_dir_nofollow(int parent_dirfd, const std::string& name);

// mkdir -p of rel_path below root_dirfd, each component opened with
// O_NOFOLLOW (a symlinked component is an IoError ELOOP); parents of created
// folders are fsynced when fsync_created. Returns the leaf folder's fd.
// Created folders get dir_mode exactly (umask aside) when it is not 0
// (photofactory.storage_mode); 0 leaves them 0750 minus the umask.
int ensure_dir_path(int root_dirfd, const std::string& rel_path, bool fsync_created, mode_t dir_mode = 0);

// Renames sdir/sname to ddir/dname unless dname exists: 0, or the errno
// (EEXIST when taken). Falls back to link+unlink where renameat2 is missing
// (old kernels, some filesystems): link() never replaces either.
int rename_noreplace(int sdir, const char* sname, int ddir, const char* dname);

void fsync_fd(int fd);
void fsync_dir(int dirfd);

struct MoveResult {
    std::string final_name;
    bool copied = false;  // crossed filesystems
};

// Tries collision_name(wanted, 0..9999) until one is free. The source is
// untouched on any failure. expected_sha256 (may be empty) is verified on the
// copy when crossing filesystems. A cross-filesystem copy is always made
// durable (data and destination folder) before the source is released; with
// durable = false a same-filesystem rename leaves both folders for the caller
// to fsync (batched: one fsync per folder for many files).
MoveResult move_no_replace(int src_dirfd, const std::string& src_name, int dst_dirfd, const std::string& wanted_name,
                           const std::string& expected_sha256, bool durable);

struct MoveOptions {
    std::string expected_sha256;  // verified on a copy; may be empty
    bool durable = false;         // see move_no_replace above
    // The source must still be this entry (device, inode, size, mtime) right
    // before it is renamed or released: a name swapped for a link or for other
    // content since it was read throws RejectError(Unstable) and nothing moves.
    FileIdentity expect;
    // Copy (verified) even on one filesystem, then release the source name: a
    // hard-linked inbox file must not share its inode with a file outside.
    bool copy = false;
    // A stored regular file is given this mode (photofactory.storage_mode);
    // 0 keeps its mode.
    mode_t file_mode = 0;
};

MoveResult move_no_replace(int src_dirfd, const std::string& src_name, int dst_dirfd, const std::string& wanted_name,
                           const MoveOptions& opts);

}  // namespace pf
