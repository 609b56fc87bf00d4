#include "core/open_beneath.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/inbox_file.hpp"

namespace pf {

bool rel_path_is_safe(const std::string& rel) {
    if (rel.empty() || rel.front() == '/' || rel.back() == '/' || rel.find('\0') != std::string::npos) return false;
    size_t start = 0;
    while (start <= rel.size()) {
        size_t slash = rel.find('/', start);
        if (slash == std::string::npos) slash = rel.size();
        std::string comp = rel.substr(start, slash - start);
        if (comp.empty() || comp == "." || comp == "..") return false;
        start = slash + 1;
    }
    return true;
}

int open_regular_beneath(int root_fd, const std::string& rel) {
    if (!rel_path_is_safe(rel)) {
        errno = EINVAL;
        return -1;
    }
    std::string leaf;
    int dir = open_parent_dir(root_fd, rel, &leaf);
    if (dir < 0) return -1;
    int fd = openat(dir, leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int saved = errno;
    close(dir);
    if (fd < 0) {
        errno = saved;
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EACCES;
        return -1;
    }
    return fd;
}

}  // namespace pf
