// Reading one inbox file for ingestion: refuses links and special files
// without opening them, then one streaming read for hash and metadata.
#pragma once

#include "core/core_guard.hpp"

#include <string>
#include <vector>

#include "core/asset_reader.hpp"
#include "core/errors.hpp"
#include "core/file_identity.hpp"

namespace pf {

struct InboxRead {
    enum class Outcome {
        Read,      // facts is filled: ingest (or file as duplicate)
        Rejected,  // reason/detail say why: move to Rejected/
        Unstable,  // changed while read: try again after it settles
        Vanished,  // gone before we got to it: nothing to do
    };
    Outcome outcome = Outcome::Vanished;
    RejectReason reason = RejectReason::Unreadable;
    std::string detail;
    AssetFacts facts;
    // The entry as read (Read and Rejected): the move later acts on the name
    // only while it still is this file.
    FileIdentity identity;
};

// How a read file's bytes are made durable before the file moves.
enum class DataSync {
    None,            // the caller does not need it (inspection only)
    StartWriteback,  // start writeback now; the caller fsyncs later (fsync_inbox_file),
                     // so one journal commit covers a whole batch of files
    Fsync,           // fsync before returning
};

// rel_path is raw bytes relative to root_fd. Every folder component is opened
// with O_NOFOLLOW, so nothing outside the inbox is ever read. Throws
// Cancelled when opts.cancelled asks to stop.
InboxRead read_inbox_file(int root_fd, const std::string& rel_path, const ReadOptions& opts, DataSync sync);

// fsyncs a regular inbox file (never a link or special file, which are not
// opened). Returns 0, or an errno value (ENOENT when it is gone).
int fsync_inbox_file(int root_fd, const std::string& rel_path);

// Makes many inbox files durable at once: those on the inbox's own filesystem
// with one syncfs() (one journal commit and one cache flush instead of one per
// file), any below a mount point inside the inbox with fsync. Returns one
// errno value per file (0, or ENOENT when it is gone).
std::vector<int> sync_inbox_files(int root_fd, const std::vector<std::string>& rel_paths);

// fsyncs the folder rel_dir ("" = the root itself) below root_fd, opened with
// O_NOFOLLOW on every component. Returns 0 or an errno value.
int fsync_rel_dir(int root_fd, const std::string& rel_dir);

// Opens the folder holding rel_path (O_NOFOLLOW on every component); returns
// -1 with errno set on failure. *leaf receives the last path component. A
// ".." or empty folder component is refused (EINVAL): it would climb out of
// root_fd whatever O_NOFOLLOW says.
int open_parent_dir(int root_fd, const std::string& rel_path, std::string* leaf);

// The identity of the entry rel_path below root_fd (walked as above, the
// entry itself not followed); identity.known is false when it cannot be seen.
FileIdentity entry_identity(int root_fd, const std::string& rel_path);

}  // namespace pf
