// Opening a file below a root folder the safe way: the relative path is
// checked ("", ".", ".." components and absolute paths are refused) and every
// component is opened with O_NOFOLLOW from the root's descriptor, so a symlink
// planted anywhere on the way cannot lead outside the root.
#pragma once

#include "core/core_guard.hpp"

#include <string>

namespace pf {

// A read-only descriptor of the regular file at root_fd/rel, or -1 with errno
// set (EINVAL for a refused path, ELOOP for a symlink, EISDIR/EACCES, ENOENT).
int open_regular_beneath(int root_fd, const std::string& rel);

// rel with "" / "." / ".." components, a leading '/', NUL or a trailing '/'?
bool rel_path_is_safe(const std::string& rel);

}  // namespace pf
