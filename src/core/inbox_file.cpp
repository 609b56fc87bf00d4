#include "core/unique_fd.hpp"
#include "core/inbox_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pf {

int open_parent_dir(int root_fd, const std::string& rel_path, std::string* leaf) {
    int cur = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
    if (cur < 0) return -1;
    size_t start = 0;
    for (;;) {
        size_t slash = rel_path.find('/', start);
        if (slash == std::string::npos) {
            *leaf = rel_path.substr(start);
            if (*leaf == "..") {
                close(cur);
                errno = EINVAL;
                return -1;
            }
            return cur;
        }
        std::string comp = rel_path.substr(start, slash - start);
        if (comp.empty() || comp == "..") {
            close(cur);
            errno = EINVAL;
            return -1;
        }
        int next = openat(cur, comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int saved = errno;
        close(cur);
        if (next < 0) {
            errno = saved;
            return -1;
        }
        cur = next;
        start = slash + 1;
    }
}

namespace {

using Fd = pf::UniqueFd;

InboxRead rejected(RejectReason r, std::string detail) {
    InboxRead out;
    out.outcome = InboxRead::Outcome::Rejected;
    out.reason = r;
    out.detail = std::move(detail);
    return out;
}

}  // namespace

InboxRead read_inbox_file(int root_fd, const std::string& rel_path, const ReadOptions& opts, DataSync sync) {
    InboxRead out;
    std::string leaf;
    Fd dir;
    dir.fd = open_parent_dir(root_fd, rel_path, &leaf);
    if (dir.fd < 0) {
        if (errno == ENOENT) return out;  // Vanished
        if (errno == ELOOP || errno == ENOTDIR)
            return rejected(RejectReason::Symlink, "a folder on its path is a symbolic link");
        return rejected(RejectReason::Unreadable, std::string("cannot open its folder: ") + std::strerror(errno));
    }

    // Type first, from the directory entry: a device or FIFO is never opened.
    struct stat st;
    if (fstatat(dir.fd, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return out;
        return rejected(RejectReason::Unreadable, std::string("stat: ") + std::strerror(errno));
    }
    if (S_ISLNK(st.st_mode)) {
        out = rejected(RejectReason::Symlink, "symbolic links are never followed");
        out.identity = identity_of(st);
        return out;
    }
    if (!S_ISREG(st.st_mode)) {
        out = rejected(RejectReason::NotRegularFile, "not a regular file (FIFO, socket or device)");
        out.identity = identity_of(st);
        return out;
    }

    Fd file;
    file.fd = openat(dir.fd, leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (file.fd < 0) {
        if (errno == ENOENT) return out;
        if (errno == ELOOP) return rejected(RejectReason::Symlink, "symbolic links are never followed");
        return rejected(RejectReason::Unreadable, std::string("open: ") + std::strerror(errno));
    }
    struct stat st2;
    if (fstat(file.fd, &st2) != 0 || st2.st_ino != st.st_ino || st2.st_dev != st.st_dev) {
        out.outcome = InboxRead::Outcome::Unstable;  // replaced between stat and open
        out.detail = "replaced while opening";
        return out;
    }

    try {
        out.facts = read_asset(file.fd, leaf, opts);
    } catch (const RejectError& e) {
        if (e.reason == RejectReason::Unstable) {
            out.outcome = InboxRead::Outcome::Unstable;
            out.detail = e.what();
            return out;
        }
        out = rejected(e.reason, e.detail);
        out.identity = identity_of(st2);
        return out;
    } catch (const IoError& e) {
        out = rejected(RejectReason::Unreadable, e.what());
        out.identity = identity_of(st2);
        return out;
    }
    // What was hashed is what the move will insist on finding.
    struct stat st3;
    if (fstat(file.fd, &st3) != 0 || !same_identity(identity_of(st2), identity_of(st3))) {
        out.outcome = InboxRead::Outcome::Unstable;
        out.detail = "changed while being read";
        return out;
    }
    out.identity = identity_of(st3);
    // The bytes must be on disk before the only directory entry pointing at them moves.
    if (sync == DataSync::Fsync && fsync(file.fd) != 0 && errno != EINVAL && errno != EROFS)
        throw IoError("fsync of " + rel_path, errno);
    if (sync == DataSync::StartWriteback) sync_file_range(file.fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    out.outcome = InboxRead::Outcome::Read;
    return out;
}

FileIdentity entry_identity(int root_fd, const std::string& rel_path) {
    std::string leaf;
    Fd dir;
    dir.fd = open_parent_dir(root_fd, rel_path, &leaf);
    struct stat st;
    if (dir.fd < 0 || fstatat(dir.fd, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return FileIdentity();
    return identity_of(st);
}

namespace {
// What fsync_inbox_file cannot open is not ours to make durable (links,
// unreadable files: they go to Rejected/ as entries); only real I/O errors count.
int sync_error(int e) { return e == EACCES || e == EPERM || e == ELOOP || e == ENOTDIR || e == ENXIO ? 0 : e; }
}  // namespace

int fsync_inbox_file(int root_fd, const std::string& rel_path) {
    std::string leaf;
    Fd dir;
    dir.fd = open_parent_dir(root_fd, rel_path, &leaf);
    if (dir.fd < 0) return sync_error(errno);
    // Links, FIFOs, sockets and devices are moved as entries, never opened.
    struct stat st;
    if (fstatat(dir.fd, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return sync_error(errno);
    if (!S_ISREG(st.st_mode)) return 0;
    Fd file;
    file.fd = openat(dir.fd, leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (file.fd < 0) return sync_error(errno);
    if (fsync(file.fd) != 0 && errno != EINVAL && errno != EROFS) return errno;
    return 0;
}

std::vector<int> sync_inbox_files(int root_fd, const std::vector<std::string>& rel_paths) {
    std::vector<int> errs(rel_paths.size(), 0);
    struct stat root;
    if (fstat(root_fd, &root) != 0) throw IoError("fstat of the inbox", errno);
    std::vector<size_t> on_root;
    for (size_t i = 0; i < rel_paths.size(); i++) {
        std::string leaf;
        Fd dir;
        dir.fd = open_parent_dir(root_fd, rel_paths[i], &leaf);
        struct stat st;
        if (dir.fd < 0) errs[i] = sync_error(errno);
        else if (fstatat(dir.fd, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) errs[i] = sync_error(errno);
        else if (!S_ISREG(st.st_mode)) errs[i] = 0;
        else if (st.st_dev == root.st_dev) on_root.push_back(i);
        else errs[i] = fsync_inbox_file(root_fd, rel_paths[i]);
    }
    if (on_root.size() == 1) {
        errs[on_root[0]] = fsync_inbox_file(root_fd, rel_paths[on_root[0]]);
    } else if (!on_root.empty() && syncfs(root_fd) != 0) {
        for (size_t i : on_root) errs[i] = errno;
    }
    return errs;
}

int fsync_rel_dir(int root_fd, const std::string& rel_dir) {
    if (rel_dir.empty()) return fsync(root_fd) != 0 && errno != EINVAL && errno != EROFS ? errno : 0;
    std::string leaf;
    Fd dir;
    // open_parent_dir walks every component but the last: give it one more.
    dir.fd = open_parent_dir(root_fd, rel_dir + "/.", &leaf);
    if (dir.fd < 0) return errno;
    if (fsync(dir.fd) != 0 && errno != EINVAL && errno != EROFS) return errno;
    return 0;
}

}  // namespace pf
