// What photofactory.ingest_file(path) accepts: exactly what the librarian's
// scan would take, and one regular file only. A folder (a whole tree of
// unprocessed photos sent to Rejected/), .stfolder (Syncthing stops syncing
// without it), a Syncthing temporary or a path climbing with ".." are refused.
#pragma once

#include "core/core_guard.hpp"

#include <string>

namespace pf {

// Why rel_path (raw bytes, relative to the inbox root inbox_fd) is refused,
// or "" when it is a regular file the librarian would take, or nothing at all
// (ingest_file() then says "vanished"). Walks from inbox_fd with O_NOFOLLOW
// on every component.
std::string ingest_request_refusal(int inbox_fd, const std::string& rel_path);

}  // namespace pf
