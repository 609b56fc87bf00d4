#include "core/inbox_watch.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/errors.hpp"
#include "core/inbox_file.hpp"
#include "core/inbox_rules.hpp"

namespace pf {
namespace {
// No IN_DONT_FOLLOW: folders are named by /proc/self/fd/N of a descriptor
// opened without following, and that magic link must be followed.
constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ATTRIB | IN_ONLYDIR | IN_EXCL_UNLINK;
constexpr int kMaxDepth = 64;
}  // namespace

InboxWatcher::InboxWatcher(const std::string& root) {
    int fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw IoError("opening the inbox", errno);
    try {
        start(fd);
    } catch (...) {
        close(fd);
        throw;
    }
    close(fd);
}

InboxWatcher::InboxWatcher(int root_fd) { start(root_fd); }

void InboxWatcher::start(int root_fd) {
    root_fd_ = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
    if (root_fd_ < 0) throw IoError("dup", errno);
    fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) {
        int e = errno;
        close(root_fd_);
        root_fd_ = -1;
        throw IoError("inotify_init1", e);
    }
    add_tree("", 0);
}

InboxWatcher::~InboxWatcher() {
    if (fd_ >= 0) close(fd_);
    if (root_fd_ >= 0) close(root_fd_);
}

void InboxWatcher::add_tree(const std::string& rel, int depth) {
    if (depth > kMaxDepth) return;
    std::string leaf;
    int dfd = rel.empty() ? fcntl(root_fd_, F_DUPFD_CLOEXEC, 0) : open_parent_dir(root_fd_, rel + "/.", &leaf);
    if (dfd < 0) return;  // vanished, a link, or no permission: the scan reports those
    std::string proc = "/proc/self/fd/" + std::to_string(dfd);
    int wd = inotify_add_watch(fd_, proc.c_str(), kMask);
    if (wd < 0) {
        if (errno == ENOSPC || errno == ENOMEM) incomplete_ = true;
        close(dfd);
        return;
    }
    paths_[wd] = rel;
    lseek(dfd, 0, SEEK_SET);  // a dup of the root shares its offset
    DIR* dir = fdopendir(dfd);
    if (dir == nullptr) {
        close(dfd);
        return;
    }
    while (struct dirent* de = readdir(dir)) {
        if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) continue;
        if (std::strcmp(de->d_name, ".") == 0 || std::strcmp(de->d_name, "..") == 0) continue;
        if (classify_name(de->d_name, true) != NameVerdict::Candidate) continue;
        add_tree(rel.empty() ? std::string(de->d_name) : rel + "/" + de->d_name, depth + 1);
    }
    closedir(dir);
}

bool InboxWatcher::drain() {
    alignas(struct inotify_event) char buf[16384];
    bool any = false;
    for (;;) {
        ssize_t n = read(fd_, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;  // EAGAIN: drained
        }
        if (n == 0) break;
        any = true;
        for (char* p = buf; p < buf + n;) {
            auto* ev = reinterpret_cast<struct inotify_event*>(p);
            p += sizeof(struct inotify_event) + ev->len;
            if (ev->mask & IN_IGNORED) {
                paths_.erase(ev->wd);
                continue;
            }
            if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)) && ev->len > 0) {
                auto it = paths_.find(ev->wd);
                if (it != paths_.end() && classify_name(ev->name, true) == NameVerdict::Candidate)
                    add_tree(it->second.empty() ? std::string(ev->name) : it->second + "/" + ev->name, 0);
            }
        }
    }
    return any;
}

}  // namespace pf
