#include "core/inbox_watch.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/errors.hpp"
#include "core/inbox_rules.hpp"

namespace pf {
namespace {
constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ATTRIB | IN_DONT_FOLLOW |
                           IN_ONLYDIR | IN_EXCL_UNLINK;
constexpr int kMaxDepth = 64;
}  // namespace

InboxWatcher::InboxWatcher(const std::string& root) {
    fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) throw IoError("inotify_init1", errno);
    add_tree(root, 0);
}

InboxWatcher::~InboxWatcher() {
    if (fd_ >= 0) close(fd_);
}

void InboxWatcher::add_tree(const std::string& path, int depth) {
    if (depth > kMaxDepth) return;
    int wd = inotify_add_watch(fd_, path.c_str(), kMask);
    if (wd < 0) {
        if (errno == ENOSPC || errno == ENOMEM) incomplete_ = true;
        return;  // vanished, not a folder, or no permission: the scan reports those
    }
    paths_[wd] = path;
    int dfd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) return;
    DIR* dir = fdopendir(dfd);
    if (dir == nullptr) {
        close(dfd);
        return;
    }
    while (struct dirent* de = readdir(dir)) {
        if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) continue;
        if (std::strcmp(de->d_name, ".") == 0 || std::strcmp(de->d_name, "..") == 0) continue;
        if (classify_name(de->d_name, true) != NameVerdict::Candidate) continue;
        add_tree(path + "/" + de->d_name, depth + 1);  // IN_ONLYDIR rejects non-folders
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
                    add_tree(it->second + "/" + ev->name, 0);
            }
        }
    }
    return any;
}

}  // namespace pf
