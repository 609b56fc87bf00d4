// The inbox and the library must be separate trees: a library inside the
// inbox would be ingested again (its own Originals/ as duplicates, ledger rows
// pointing at moved files); an inbox inside the library would be mixed with it.
#pragma once

#include "core/core_guard.hpp"

#include <string>

namespace pf {

// "/a//b/./c/" -> "/a/b/c"; ".." is resolved lexically. For comparing
// configured roots only, never for reaching files.
std::string normalize_path(const std::string& path);

// True when the two absolute paths are equal or one lies below the other
// (lexically, on component boundaries: /photos/in and /photos/inbox do not).
bool paths_overlap(const std::string& a, const std::string& b);

// True when the folder inner_fd is outer_fd or lies below it, following ".."
// from inner_fd up to the filesystem root and comparing device+inode: this
// sees through links and different spellings of the same folder.
bool dir_within(int inner_fd, int outer_fd);

// Why inbox and storage may not be used together ("" when they may): the
// configured paths, and the open folders themselves.
std::string roots_conflict(const std::string& inbox_dir, int inbox_fd, const std::string& storage_dir, int storage_fd);

}  // namespace pf
