#include "core/backup_target.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <vector>

#include "core/backup_copy.hpp"
#include "core/errors.hpp"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

namespace pf {
namespace {

constexpr const char* kHeader = "photofactory backup target";

std::string read_small(int dirfd, const char* name, int* err) {
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *err = errno;
        return std::string();
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 4096) {
        *err = EINVAL;
        close(fd);
        return std::string();
    }
    std::string out(static_cast<size_t>(st.st_size), '\0');
    ssize_t n = pread(fd, out.data(), out.size(), 0);
    *err = n < 0 ? errno : 0;
    close(fd);
    if (n < 0) return std::string();
    out.resize(static_cast<size_t>(n));
    return out;
}

std::string field(const std::string& text, const std::string& key) {
    size_t pos = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        std::string line = text.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
        if (line.compare(0, key.size() + 1, key + "=") == 0) return line.substr(key.size() + 1);
        if (eol == std::string::npos) break;
        pos = eol + 1;
    }
    return std::string();
}

void remove_in(int dirfd, int depth, int* removed) {
    DIR* d = fdopendir(dirfd);
    if (d == nullptr) {
        close(dirfd);
        return;
    }
    std::vector<std::string> subdirs, temps;
    while (struct dirent* de = readdir(d)) {
        std::string name = de->d_name;
        if (name == "." || name == "..") continue;
        struct stat st;
        if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISREG(st.st_mode) && is_backup_temporary_name(name)) temps.push_back(name);
        else if (S_ISDIR(st.st_mode) && depth > 0) subdirs.push_back(name);
    }
    bool any = false;
    for (const auto& t : temps)
        if (unlinkat(dirfd, t.c_str(), 0) == 0) {
            (*removed)++;
            any = true;
        }
    if (any) fsync(dirfd);
    for (const auto& s : subdirs) {
        int fd = openat(dirfd, s.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) remove_in(fd, depth - 1, removed);
    }
    closedir(d);
}

}  // namespace

const char* to_string(MarkerState s) {
    switch (s) {
        case MarkerState::Ok: return "ok";
        case MarkerState::RootMissing: return "folder missing";
        case MarkerState::Missing: return "marker missing";
        case MarkerState::Unreadable: return "marker unreadable";
        case MarkerState::Foreign: return "marker of another target";
    }
    return "unknown";
}

std::string backup_marker_text(const std::string& target_id, const std::string& name) {
    return std::string(kHeader) + "\nid=" + target_id + "\nname=" + name + "\n";
}

MarkerCheck check_backup_marker(int root_fd, const std::string& expected_id) {
    MarkerCheck c;
    int err = 0;
    std::string text = read_small(root_fd, kBackupMarkerName, &err);
    if (err == ENOENT) {
        c.state = MarkerState::Missing;
        c.detail = std::string("no ") + kBackupMarkerName + " (disk not mounted?)";
        return c;
    }
    if (err != 0 || text.compare(0, std::strlen(kHeader), kHeader) != 0) {
        c.state = MarkerState::Unreadable;
        c.detail = std::string(kBackupMarkerName) + " unreadable" + (err ? std::string(": ") + std::strerror(err) : "");
        return c;
    }
    c.found_id = field(text, "id");
    if (c.found_id != expected_id) {
        c.state = MarkerState::Foreign;
        c.detail = std::string(kBackupMarkerName) + " names target " + (c.found_id.empty() ? "(none)" : c.found_id) +
                   " (" + field(text, "name") + "), not this one (wrong disk?)";
        return c;
    }
    c.state = MarkerState::Ok;
    return c;
}

void write_backup_marker(int root_fd, const std::string& target_id, const std::string& name) {
    MarkerCheck existing = check_backup_marker(root_fd, target_id);
    if (existing.state == MarkerState::Ok) return;
    if (existing.state != MarkerState::Missing)
        throw Error("the folder already holds a backup target marker: " + existing.detail);
    std::random_device rd;
    std::string tmp = std::string(kBackupMarkerName) + ".new-" + std::to_string(rd());
    int fd = openat(root_fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) throw IoError("creating the target marker", errno);
    std::string text = backup_marker_text(target_id, name);
    bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
    int e = errno;
    close(fd);
    if (!ok) {
        unlinkat(root_fd, tmp.c_str(), 0);
        throw IoError("writing the target marker", e);
    }
    if (syscall(SYS_renameat2, root_fd, tmp.c_str(), root_fd, kBackupMarkerName, RENAME_NOREPLACE) != 0) {
        e = errno;
        if (e == EINVAL || e == ENOSYS) {  // no renameat2 here: link never replaces either
            e = linkat(root_fd, tmp.c_str(), root_fd, kBackupMarkerName, 0) == 0 ? 0 : errno;
            unlinkat(root_fd, tmp.c_str(), 0);
        } else {
            unlinkat(root_fd, tmp.c_str(), 0);
        }
        if (e != 0) throw IoError("placing the target marker", e);
    }
    if (fsync(root_fd) != 0 && errno != EINVAL) throw IoError("fsync of the target folder", errno);
}

int open_backup_target(const std::string& path, const std::string& target_id, MarkerCheck* check) {
    // The configured root itself is the operator's path (it may be a mount point
    // reached through a symbolic link); everything below it is walked with O_NOFOLLOW.
    int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        check->state = MarkerState::RootMissing;
        check->detail = path + ": " + std::strerror(errno);
        return -1;
    }
    *check = check_backup_marker(fd, target_id);
    if (check->state != MarkerState::Ok) {
        close(fd);
        return -1;
    }
    return fd;
}

int remove_backup_temporaries(int root_fd, int max_depth) {
    int removed = 0;
    // A fresh open of the folder, not a dup: readdir must not move the caller's offset.
    int fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return 0;
    remove_in(fd, max_depth, &removed);
    return removed;
}

bool path_within(const std::string& path, const std::string& dir) {
    if (dir.empty()) return false;
    if (dir == "/") return true;
    std::string d = dir.back() == '/' ? dir.substr(0, dir.size() - 1) : dir;
    return path == d || (path.size() > d.size() && path.compare(0, d.size(), d) == 0 && path[d.size()] == '/');
}

}  // namespace pf
