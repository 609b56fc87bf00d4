#include "core/inbox_scan.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pf {
namespace {

void walk(int dir_fd, const std::string& prefix, int depth, int max_depth,
          const std::function<void(const InboxEntry&)>& visit, ScanStats& stats, const FileIdentity* skip_dir) {
    // fdopendir takes ownership of dir_fd: closedir() closes it.
    DIR* dir = fdopendir(dir_fd);
    if (dir == nullptr) {
        stats.errors.push_back((prefix.empty() ? std::string(".") : prefix) + ": " + std::strerror(errno));
        close(dir_fd);
        return;
    }
    stats.directories++;
    for (;;) {
        errno = 0;
        struct dirent* de = readdir(dir);
        if (de == nullptr) {
            if (errno != 0) stats.errors.push_back(prefix + ": " + std::strerror(errno));
            break;
        }
        const char* n = de->d_name;
        if (std::strcmp(n, ".") == 0 || std::strcmp(n, "..") == 0) continue;

        InboxEntry e;
        e.name = n;
        e.rel_path = prefix.empty() ? e.name : prefix + "/" + e.name;
        if (fstatat(dirfd(dir), n, &e.st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT)  // vanished between readdir and stat: not an error
                stats.errors.push_back(e.rel_path + ": " + std::strerror(errno));
            continue;
        }
        if (S_ISDIR(e.st.st_mode)) {
            if (classify_name(e.name, true) != NameVerdict::Candidate) continue;
            if (skip_dir != nullptr && skip_dir->known && static_cast<uint64_t>(e.st.st_dev) == skip_dir->dev &&
                static_cast<uint64_t>(e.st.st_ino) == skip_dir->ino) {
                stats.errors.push_back(e.rel_path + ": the library (photofactory.storage_dir) is never scanned");
                continue;
            }
            if (depth + 1 > max_depth) {
                stats.errors.push_back(e.rel_path + ": folder nesting deeper than " + std::to_string(max_depth));
                continue;
            }
            int child = openat(dirfd(dir), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (child < 0) {
                stats.errors.push_back(e.rel_path + ": " + std::strerror(errno));
                continue;
            }
            walk(child, e.rel_path, depth + 1, max_depth, visit, stats, skip_dir);
            continue;
        }
        e.type = S_ISREG(e.st.st_mode) ? EntryType::Regular
                 : S_ISLNK(e.st.st_mode) ? EntryType::Symlink
                                         : EntryType::Other;
        e.verdict = classify_name(e.name, false);
        stats.entries++;
        visit(e);
    }
    closedir(dir);
}

}  // namespace

void scan_inbox(int root_fd, const std::function<void(const InboxEntry&)>& visit, ScanStats& stats,
                int max_depth, const FileIdentity* skip_dir) {
    int fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        stats.errors.push_back(std::string("inbox: ") + std::strerror(errno));
        return;
    }
    // A dup shares the directory offset with root_fd: rewind so every scan sees all entries.
    lseek(fd, 0, SEEK_SET);
    walk(fd, "", 0, max_depth, visit, stats, skip_dir);
}

}  // namespace pf
