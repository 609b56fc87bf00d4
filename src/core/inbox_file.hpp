// Reading one inbox file for ingestion: refuses links and special files
// without opening them, then one streaming read for hash and metadata.
#pragma once

#include "core/core_guard.hpp"

#include <string>

#include "core/asset_reader.hpp"
#include "core/errors.hpp"

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
};

// rel_path is raw bytes relative to root_fd. Every folder component is opened
// with O_NOFOLLOW, so nothing outside the inbox is ever read. With
// fsync_data, the file's data is made durable before it is moved.
InboxRead read_inbox_file(int root_fd, const std::string& rel_path, const ReadOptions& opts, bool fsync_data);

// Opens the folder holding rel_path (O_NOFOLLOW on every component); returns
// -1 with errno set on failure. *leaf receives the last path component.
int open_parent_dir(int root_fd, const std::string& rel_path, std::string* leaf);

}  // namespace pf
