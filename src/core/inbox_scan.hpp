// Walking the inbox: every entry below the root, without ever following a
// symbolic link, with hidden/temporary names classified rather than opened.
#pragma once

#include "core/core_guard.hpp"

#include <sys/stat.h>

#include <functional>
#include <string>
#include <vector>

#include "core/file_identity.hpp"
#include "core/inbox_rules.hpp"

namespace pf {

enum class EntryType { Regular, Symlink, Other /* FIFO, socket, device */ };

struct InboxEntry {
    std::string rel_path;  // raw bytes, relative to the inbox root, '/'-separated
    std::string name;      // last component, raw bytes
    EntryType type;
    struct stat st;        // of the entry itself (links not followed)
    NameVerdict verdict;   // Candidate, or why it is left alone
};

struct ScanStats {
    size_t directories = 0;
    size_t entries = 0;
    std::vector<std::string> errors;  // unreadable folders, too-deep trees: reported, never fatal
};

// Calls visit() for every non-directory entry below root_fd (hidden and
// ignored folders are not descended into; their names are not visited).
// Symlinked folders are visited as Symlink entries, never entered. A folder
// with the device+inode of *skip_dir (the library, should it be mounted or
// bound into the inbox) is never entered either, and reported in stats.errors.
void scan_inbox(int root_fd, const std::function<void(const InboxEntry&)>& visit, ScanStats& stats,
                int max_depth = 64, const FileIdentity* skip_dir = nullptr);

}  // namespace pf
