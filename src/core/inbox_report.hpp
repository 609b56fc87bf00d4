// What is waiting in the inbox, and why: the data behind photofactory.inbox_report().
#pragma once

#include "core/core_guard.hpp"

#include <cstdint>
#include <string>

namespace pf {

// A JSON array of {path, size_bytes, mtime_epoch, state, detail}, sorted by
// path. States: ready, settling, empty, unsupported, temporary, hidden,
// ignored, symlink, special, too_large, unreadable. Reads at most a few KB of
// each settled file (to tell photos from everything else); opens nothing
// else. max_bytes: photofactory.max_file_size (0: no limit).
std::string inbox_report_json(int root_fd, int settle_seconds, uint64_t max_bytes = 0);

}  // namespace pf
