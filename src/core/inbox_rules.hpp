// Which inbox names are content, and which belong to somebody else (a sync
// in progress, the OS, a NAS). Those are never opened, moved or deleted:
// deleting Syncthing's temporaries is exactly what peers got wrong.
#pragma once

#include "core/core_guard.hpp"

#include <sys/stat.h>

#include <cstdint>
#include <string_view>

namespace pf {

enum class NameVerdict { Candidate, Temporary, Hidden, Ignored };

NameVerdict classify_name(std::string_view name, bool is_dir);

// True once both mtime and ctime are at least settle_seconds old: a file
// still being written or just renamed into place waits. Nanosecond precision:
// whole seconds would let a file changed at 10.9 s pass at 11.0 s.
bool has_settled(const struct stat& st, int64_t now_epoch, int settle_seconds);
bool has_settled_ns(const struct stat& st, const struct timespec& now, int settle_seconds);

// Seconds (with fraction) since the file's last data or metadata change.
double seconds_since_change(const struct stat& st, const struct timespec& now);

}  // namespace pf
