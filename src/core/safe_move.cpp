#include "core/unique_fd.hpp"
#include "core/safe_move.hpp"

#include "core/inbox_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <random>
#include <vector>

#include "core/errors.hpp"
#include "core/library_layout.hpp"
#include "core/sha256.hpp"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

namespace pf {
namespace {

using Fd = pf::UniqueFd;

std::string random_suffix() {
    std::random_device rd;
    char buf[24];
    std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
    return buf;
}

void write_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            throw IoError("writing the copy", errno);
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
}

// Copies src to a hidden temporary in dst_dir, fsynced and verified; returns its name.
std::string copy_verified(int src_dirfd, const std::string& src_name, int dst_dirfd, const std::string& expected,
                          const FileIdentity& expect) {
    Fd in(openat(src_dirfd, src_name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (in.fd < 0) throw IoError("opening " + src_name + " to copy it", errno);
    struct stat st;
    if (fstat(in.fd, &st) != 0) throw IoError("fstat", errno);
    if (!S_ISREG(st.st_mode) || (expect.known && !same_identity(identity_of(st), expect)))
        throw RejectError(RejectReason::Unstable, "the file changed since it was read");
    std::string tmp = ".pf-incoming-" + random_suffix();
    // Read-write: the copy is read back from the destination to verify it.
    Fd out(openat(dst_dirfd, tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (out.fd < 0) throw IoError("creating a temporary copy", errno);
    try {
        Sha256 src_hash;
        std::vector<char> buf(1 << 20);
        for (;;) {
            ssize_t n = read(in.fd, buf.data(), buf.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                throw IoError("reading " + src_name, errno);
            }
            if (n == 0) break;
            src_hash.update(buf.data(), static_cast<size_t>(n));
            write_all(out.fd, buf.data(), static_cast<size_t>(n));
        }
        struct timespec times[2] = {st.st_atim, st.st_mtim};
        futimens(out.fd, times);
        fchmod(out.fd, st.st_mode & 07777);
        fsync_fd(out.fd);  // always: the source is released once this copy is in place
        std::string want = expected.empty() ? src_hash.hex_digest() : expected;
        // Read back what the destination filesystem holds, not what we wrote.
        std::string got = sha256_file_fd(out.fd);
        if (got != want) throw Error("copy verification failed: " + src_name + " hashes differently after copying");
    } catch (...) {
        unlinkat(dst_dirfd, tmp.c_str(), 0);  // our own partial copy; the source is untouched
        throw;
    }
    return tmp;
}

}  // namespace

int rename_noreplace(int sdir, const char* sname, int ddir, const char* dname) {
    if (syscall(SYS_renameat2, sdir, sname, ddir, dname, RENAME_NOREPLACE) == 0) return 0;
    int e = errno;
    if (e != EINVAL && e != ENOSYS) return e;
    if (linkat(sdir, sname, ddir, dname, 0) != 0) return errno;
    if (unlinkat(sdir, sname, 0) != 0) return errno;  // both names point at the same inode: nothing lost
    return 0;
}

int open_dir_nofollow(int parent_dirfd, const std::string& name) {
    int fd = openat(parent_dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) throw IoError("opening folder " + name, errno);
    return fd;
}

void fsync_fd(int fd) {
    if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS) throw IoError("fsync", errno);
}

void fsync_dir(int dirfd) { fsync_fd(dirfd); }

int ensure_dir_path(int root_dirfd, const std::string& rel_path, bool fsync_created, mode_t dir_mode) {
    // Usually the folder exists already (many files per day): open it without
    // trying a mkdir per component.
    {
        std::string leaf;
        int fd = open_parent_dir(root_dirfd, rel_path + "/.", &leaf);
        if (fd >= 0) return fd;
    }
    Fd cur(fcntl(root_dirfd, F_DUPFD_CLOEXEC, 0));
    if (cur.fd < 0) throw IoError("dup", errno);
    size_t start = 0;
    while (start < rel_path.size()) {
        size_t slash = rel_path.find('/', start);
        std::string comp = rel_path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        start = slash == std::string::npos ? rel_path.size() : slash + 1;
        if (comp.empty() || comp == ".") continue;
        if (comp == "..") throw IoError("refusing '..' in " + rel_path, EINVAL);
        bool created = false;
        if (mkdirat(cur.fd, comp.c_str(), 0750) == 0) created = true;
        else if (errno != EEXIST) throw IoError("creating folder " + comp, errno);
        Fd next(open_dir_nofollow(cur.fd, comp));
        if (created && dir_mode != 0 && fchmod(next.fd, dir_mode) != 0) throw IoError("setting the mode of " + comp, errno);
        if (created && fsync_created) fsync_dir(cur.fd);  // make the new entry durable
        close(cur.fd);
        cur.fd = next.release();
    }
    return cur.release();
}

namespace {

// Gives a stored regular file its mode. Opened without following and without
// blocking, so a link or FIFO moved to Rejected/ is never touched through.
void apply_file_mode(int dirfd, const std::string& name, mode_t mode) {
    if (mode == 0) return;
    Fd f(openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (f.fd < 0) return;
    struct stat st;
    // Best effort: a file owned by another user (the sync tool's) keeps its mode.
    if (fstat(f.fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) != mode) (void)fchmod(f.fd, mode);
}

RejectError changed(const std::string& name) {
    return RejectError(RejectReason::Unstable, name + " changed since it was read; it waits until it settles");
}

}  // namespace

MoveResult move_no_replace(int src_dirfd, const std::string& src_name, int dst_dirfd, const std::string& wanted_name,
                           const std::string& expected_sha256, bool durable) {
    MoveOptions o;
    o.expected_sha256 = expected_sha256;
    o.durable = durable;
    return move_no_replace(src_dirfd, src_name, dst_dirfd, wanted_name, o);
}

MoveResult move_no_replace(int src_dirfd, const std::string& src_name, int dst_dirfd, const std::string& wanted_name,
                           const MoveOptions& opts) {
    MoveResult r;
    std::string tmp;  // set once a copy exists
    for (int n = 0; n <= 9999; n++) {
        std::string name = collision_name(wanted_name, n);
        int e;
        if (tmp.empty()) {
            // The name must still be the file that was read (and hashed).
            if (!entry_is(src_dirfd, src_name, opts.expect)) throw changed(src_name);
            e = opts.copy ? EXDEV : rename_noreplace(src_dirfd, src_name.c_str(), dst_dirfd, name.c_str());
            if (e == EXDEV) {
                // Copying is only worth it when the source can be released afterwards.
                if (faccessat(src_dirfd, ".", W_OK | X_OK, AT_EACCESS) != 0)
                    throw IoError("the inbox folder of " + src_name + " is not writable for the server", errno);
                tmp = copy_verified(src_dirfd, src_name, dst_dirfd, opts.expected_sha256, opts.expect);
                r.copied = true;
                n--;  // retry the same name with the verified copy
                continue;
            }
            if (e == 0 && !entry_is(dst_dirfd, name, opts.expect)) {
                // Swapped between the check and the rename: put it back where
                // it was (never replacing anything) and wait.
                rename_noreplace(dst_dirfd, name.c_str(), src_dirfd, src_name.c_str());
                throw changed(src_name);
            }
        } else {
            e = rename_noreplace(dst_dirfd, tmp.c_str(), dst_dirfd, name.c_str());
        }
        if (e == EEXIST || e == ENOTEMPTY) continue;
        if (e != 0) {
            if (!tmp.empty()) unlinkat(dst_dirfd, tmp.c_str(), 0);
            throw IoError("moving " + src_name + " to " + name, e);
        }
        r.final_name = name;
        apply_file_mode(dst_dirfd, name, opts.file_mode);
        // A copy's new entry must be durable before the source goes, whatever
        // the caller batches; a rename is one atomic entry change, so its
        // folders may be fsynced later, once per batch, by the caller.
        if (opts.durable || r.copied) fsync_dir(dst_dirfd);
        if (r.copied) {
            // Only the very file that was copied is released: a name pointed
            // at something else meanwhile keeps it, and the copy is withdrawn.
            bool same = entry_is(src_dirfd, src_name, opts.expect);
            if (!same || unlinkat(src_dirfd, src_name.c_str(), 0) != 0) {
                // It cannot (changed, a read-only inbox folder, a sticky folder):
                // take the copy back, or every retry would leave one more file in
                // the library that no ledger row names. The source is untouched.
                int e = errno;
                unlinkat(dst_dirfd, name.c_str(), 0);
                fsync_dir(dst_dirfd);
                if (!same) throw changed(src_name);
                throw IoError("releasing the source " + src_name + " (copy withdrawn)", e);
            }
        }
        if (opts.durable) fsync_dir(src_dirfd);
        return r;
    }
    if (!tmp.empty()) unlinkat(dst_dirfd, tmp.c_str(), 0);
    throw IoError("no free name for " + wanted_name, EEXIST);
}

}  // namespace pf
