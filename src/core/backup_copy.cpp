#include "core/unique_fd.hpp"
#include "core/backup_copy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "core/block_pool.hpp"
#include "core/direct_writer.hpp"
#include "core/inbox_file.hpp"
#include "core/library_layout.hpp"
#include "core/safe_move.hpp"
#include "core/sha256.hpp"
#include "core/storage_read.hpp"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

namespace pf {
namespace {

using Fd = pf::UniqueFd;

// One read of the original: a quarter of L2 (1 MiB per core here), so that
// the hash reads what read() just put in the cache.
constexpr size_t kChunk = 256 << 10;
static_assert(kChunk <= kPoolBlock, "a chunk fits a pooled block");

std::string temporary_name() {
    std::random_device rd;
    char buf[40];
    std::snprintf(buf, sizeof buf, ".pf-backup-%08x%08x.tmp", rd(), rd());
    return buf;
}

void split(const std::string& rel, std::string* dir, std::string* leaf) {
    size_t slash = rel.rfind('/');
    if (slash == std::string::npos) {
        dir->clear();
        *leaf = rel;
    } else {
        *dir = rel.substr(0, slash);
        *leaf = rel.substr(slash + 1);
    }
}

// Hashes from the storage, not the page cache (core/storage_read.hpp).
std::string hash_uncached(int fd, const ReadThrottle& throttle) { return hash_from_storage(fd, throttle).hex; }

// The destination folder, created from the destination root (O_NOFOLLOW walk).
int open_dst_dir(int dst_root_fd, const std::string& dir_rel) {
    try {
        if (dir_rel.empty()) {
            int fd = fcntl(dst_root_fd, F_DUPFD_CLOEXEC, 0);
            if (fd < 0) throw IoError("dup", errno);
            return fd;
        }
        return ensure_dir_path(dst_root_fd, dir_rel, true);
    } catch (const IoError& e) {
        throw TargetIoError(std::string("destination folder ") + dir_rel + ": " + e.what(), e.err);
    }
}

// What is at name in dir: 0 none, 1 a regular file with the wanted hash, 2 anything else.
int probe_existing(int dirfd, const std::string& name, const std::string& sha256, struct stat* st_out) {
    struct stat st;
    if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return 0;
        throw TargetIoError("looking at " + name, errno);
    }
    if (st_out) *st_out = st;
    if (!S_ISREG(st.st_mode)) return 2;
    Fd f(openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (f.fd < 0) return 2;
    try {
        return hash_uncached(f.fd, nullptr) == sha256 ? 1 : 2;
    } catch (const IoError&) {
        return 2;
    }
}

struct Source {
    Fd fd;
    struct stat st;
};

// Opens the source below its root; fills r with the outcome when it cannot.
bool open_source(int src_root_fd, const std::string& src_rel, Source* s, CopyResult* r) {
    std::string leaf;
    Fd dir(open_parent_dir(src_root_fd, src_rel, &leaf));
    if (dir.fd < 0) {
        r->outcome = (errno == ENOENT) ? CopyOutcome::SourceMissing : CopyOutcome::SourceUnreadable;
        r->detail = std::string("opening the folder of ") + src_rel + ": " + std::strerror(errno);
        return false;
    }
    if (fstatat(dir.fd, leaf.c_str(), &s->st, AT_SYMLINK_NOFOLLOW) != 0) {
        r->outcome = (errno == ENOENT) ? CopyOutcome::SourceMissing : CopyOutcome::SourceUnreadable;
        r->detail = src_rel + ": " + std::strerror(errno);
        return false;
    }
    if (!S_ISREG(s->st.st_mode)) {
        r->outcome = CopyOutcome::SourceUnreadable;
        r->detail = src_rel + " is not a regular file";
        return false;
    }
    s->fd.fd = openat(dir.fd, leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (s->fd.fd < 0) {
        r->outcome = CopyOutcome::SourceUnreadable;
        r->detail = "opening " + src_rel + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

// A failed write on the destination side is the target's problem.
template <class F>
auto on_target(F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const IoError& e) {
        throw TargetIoError(e.what(), e.err);
    }
}

// Steps 2-4: a durable, verified temporary in dirfd. Returns its name, or ""
// with r filled when the source is the problem (nothing is left behind).
// With pending given, the temporary is handed over unfinished instead (its
// last writes may still be under way; unsynced, unverified) for whoever
// completes and verifies it (core/copy_verifier.hpp).
std::string make_verified_temporary(Source& src, const std::string& src_rel, int dirfd, const std::string& sha256,
                                    const ReadThrottle& throttle, CopyResult* r,
                                    std::unique_ptr<CopyVerifier::PendingWrite>* pending = nullptr) {
    std::string tmp = temporary_name();
    Fd out(openat(dirfd, tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (out.fd < 0) throw TargetIoError("creating a temporary copy", errno);
    try {
        (void)posix_fadvise(src.fd.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        Sha256 h;
        std::uint64_t total = 0;
        auto w = on_target([&] { return std::unique_ptr<DirectWriter>(new DirectWriter(out.fd)); });
        for (bool eof = false; !eof;) {
            // Each block is filled (the writes stay aligned) by L2-sized
            // reads, each hashed while it is still in the cache; the bytes
            // written are the bytes hashed (the block is private).
            unsigned char* p = on_target([&] { return w->block(); });
            std::size_t got = 0;
            while (got < kPoolBlock) {
                ssize_t n = read(src.fd.fd, p + got, std::min(kChunk, kPoolBlock - got));
                if (n < 0) {
                    if (errno == EINTR) continue;
                    int e = errno;
                    w.reset();
                    unlinkat(dirfd, tmp.c_str(), 0);
                    r->outcome = CopyOutcome::SourceUnreadable;
                    r->detail = "reading " + src_rel + ": " + std::strerror(e);
                    return std::string();
                }
                if (n == 0) {
                    eof = true;
                    break;
                }
                h.update(p + got, static_cast<size_t>(n));
                got += static_cast<std::size_t>(n);
                if (throttle) throttle(static_cast<size_t>(n));
            }
            if (got > 0) on_target([&] { w->commit(got); });
            total += got;
        }
        std::string got = h.hex_digest();
        if (got != sha256) {
            w.reset();
            unlinkat(dirfd, tmp.c_str(), 0);
            r->outcome = CopyOutcome::SourceMismatch;
            r->detail = src_rel + " hashes to " + got + ", the ledger says " + sha256 + ": not copied";
            return std::string();
        }
        r->bytes = total;
        if (pending != nullptr) {  // BackupBatch's verifier completes it, makes it durable and verifies it
            pending->reset(new CopyVerifier::PendingWrite);
            (*pending)->writer = std::move(w);
            (*pending)->fd = std::move(out);
            (*pending)->mode = src.st.st_mode & 0777;
            (*pending)->times[0] = src.st.st_atim;
            (*pending)->times[1] = src.st.st_mtim;
            return tmp;
        }
        on_target([&] { return w->finish(); });
        w.reset();
        fchmod(out.fd, src.st.st_mode & 0777);
        struct timespec times[2] = {src.st.st_atim, src.st.st_mtim};
        futimens(out.fd, times);
        if (fsync(out.fd) != 0) throw TargetIoError("fsync of the copy", errno);
        std::string back;
        try {
            back = hash_uncached(out.fd, nullptr);
        } catch (const IoError& e) {
            throw TargetIoError(std::string("verifying the copy: ") + e.what(), e.err);
        }
        if (back != sha256)
            throw TargetIoError("the copy of " + src_rel + " reads back as " + back + " instead of " + sha256, EIO);
        r->bytes = total;
    } catch (...) {
        unlinkat(dirfd, tmp.c_str(), 0);  // our own temporary, never the user's file
        throw;
    }
    return tmp;
}

}  // namespace

const char* to_string(CopyOutcome o) {
    switch (o) {
        case CopyOutcome::Copied: return "copied";
        case CopyOutcome::AlreadyPresent: return "already_present";
        case CopyOutcome::SourceMissing: return "source_missing";
        case CopyOutcome::SourceUnreadable: return "source_unreadable";
        case CopyOutcome::SourceMismatch: return "source_mismatch";
        case CopyOutcome::DestinationTaken: return "destination_taken";
    }
    return "unknown";
}

const char* to_string(CopyState s) {
    switch (s) {
        case CopyState::Ok: return "ok";
        case CopyState::Missing: return "missing";
        case CopyState::Corrupt: return "corrupt";
        case CopyState::Unreadable: return "unreadable";
    }
    return "unknown";
}

bool is_backup_temporary_name(const std::string& name) {
    static const std::string pre = ".pf-backup-", suf = ".tmp";
    if (name.size() != pre.size() + 16 + suf.size()) return false;
    if (name.compare(0, pre.size(), pre) != 0 || name.compare(name.size() - suf.size(), suf.size(), suf) != 0)
        return false;
    for (size_t i = pre.size(); i < pre.size() + 16; i++) {
        char c = name[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

void check_relative_path(const std::string& rel) {
    if (rel.empty() || rel[0] == '/') throw IoError("not a relative path: '" + rel + "'", EINVAL);
    size_t start = 0;
    while (start <= rel.size()) {
        size_t slash = rel.find('/', start);
        std::string comp = rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (comp.empty() || comp == "." || comp == "..")
            throw IoError("refusing the path '" + rel + "' (empty, '.' or '..' component)", EINVAL);
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
}

CopyResult copy_verified_file(int src_root_fd, const std::string& src_rel, int dst_root_fd,
                              const std::string& dst_rel, const std::string& sha256, bool allow_collision_names,
                              const ReadThrottle& throttle) {
    check_relative_path(src_rel);
    check_relative_path(dst_rel);
    CopyResult r;
    std::string dir_rel, leaf;
    split(dst_rel, &dir_rel, &leaf);
    Source src;
    if (!open_source(src_root_fd, src_rel, &src, &r)) return r;
    Fd dir(open_dst_dir(dst_root_fd, dir_rel));
    std::string tmp;
    try {
        int max_n = allow_collision_names ? 9999 : 0;
        int races = 0;
        for (int n = 0; n <= max_n; n++) {
            std::string name = collision_name(leaf, n);
            std::string rel = dir_rel.empty() ? name : dir_rel + "/" + name;
            int what = probe_existing(dir.fd, name, sha256, nullptr);
            if (what == 1) {
                if (!tmp.empty()) unlinkat(dir.fd, tmp.c_str(), 0);
                r.outcome = CopyOutcome::AlreadyPresent;
                r.final_rel = rel;
                r.bytes = 0;
                return r;
            }
            if (what == 2) {
                if (!allow_collision_names) {
                    if (!tmp.empty()) unlinkat(dir.fd, tmp.c_str(), 0);
                    r.outcome = CopyOutcome::DestinationTaken;
                    r.detail = rel + " holds other content: never overwritten";
                    return r;
                }
                continue;
            }
            if (tmp.empty()) {
                tmp = make_verified_temporary(src, src_rel, dir.fd, sha256, throttle, &r);
                if (tmp.empty()) return r;  // the source is the problem; nothing left behind
            }
            int e = rename_noreplace(dir.fd, tmp.c_str(), dir.fd, name.c_str());
            if (e == EEXIST || e == ENOTEMPTY) {
                if (++races > 100) break;
                n--;  // someone took the name meanwhile: look at what is there now
                continue;
            }
            if (e != 0) throw TargetIoError("renaming the copy to " + rel, e);
            tmp.clear();
            if (fsync(dir.fd) != 0 && errno != EINVAL) throw TargetIoError("fsync of the folder " + dir_rel, errno);
            r.outcome = CopyOutcome::Copied;
            r.final_rel = rel;
            return r;
        }
    } catch (...) {
        if (!tmp.empty()) unlinkat(dir.fd, tmp.c_str(), 0);
        throw;
    }
    if (!tmp.empty()) unlinkat(dir.fd, tmp.c_str(), 0);
    throw TargetIoError("no free name for " + dst_rel, EEXIST);
}

CopyCheck verify_copy(int root_fd, const std::string& rel, const std::string& sha256, const ReadThrottle& throttle) {
    CopyCheck c;
    check_relative_path(rel);
    std::string leaf;
    Fd dir(open_parent_dir(root_fd, rel, &leaf));
    if (dir.fd < 0) {
        c.state = errno == ENOENT ? CopyState::Missing : CopyState::Unreadable;
        c.detail = std::string("folder of ") + rel + ": " + std::strerror(errno);
        return c;
    }
    struct stat st;
    if (fstatat(dir.fd, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        c.state = errno == ENOENT ? CopyState::Missing : CopyState::Unreadable;
        c.detail = rel + ": " + std::strerror(errno);
        return c;
    }
    if (!S_ISREG(st.st_mode)) {
        c.state = CopyState::Corrupt;
        c.detail = rel + " is not a regular file";
        return c;
    }
    Fd f(openat(dir.fd, leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (f.fd < 0) {
        c.state = CopyState::Unreadable;
        c.detail = "opening " + rel + ": " + std::strerror(errno);
        return c;
    }
    std::string got;
    try {
        got = hash_uncached(f.fd, throttle);
    } catch (const IoError& e) {
        c.state = CopyState::Unreadable;
        c.detail = rel + ": " + e.what();
        return c;
    }
    c.bytes = static_cast<std::uint64_t>(st.st_size);
    if (got != sha256) {
        c.state = CopyState::Corrupt;
        c.detail = rel + " hashes to " + got + ", the ledger says " + sha256;
        return c;
    }
    c.state = CopyState::Ok;
    return c;
}

CopyResult replace_bad_copy(int src_root_fd, const std::string& src_rel, int dst_root_fd,
                            const std::string& dst_rel, const std::string& sha256, const ReadThrottle& throttle) {
    check_relative_path(src_rel);
    check_relative_path(dst_rel);
    std::string dir_rel, leaf;
    split(dst_rel, &dir_rel, &leaf);
    Fd dir(open_dst_dir(dst_root_fd, dir_rel));
    struct stat bad;
    int what = probe_existing(dir.fd, leaf, sha256, &bad);
    if (what != 2 || !S_ISREG(bad.st_mode))  // missing (or healed meanwhile): the plain protocol
        return copy_verified_file(src_root_fd, src_rel, dst_root_fd, dst_rel, sha256, false, throttle);

    CopyResult r;
    Source src;
    if (!open_source(src_root_fd, src_rel, &src, &r)) return r;
    std::string tmp = make_verified_temporary(src, src_rel, dir.fd, sha256, throttle, &r);
    if (tmp.empty()) return r;
    if (syscall(SYS_renameat2, dir.fd, tmp.c_str(), dir.fd, leaf.c_str(), RENAME_EXCHANGE) != 0) {
        int e = errno;
        unlinkat(dir.fd, tmp.c_str(), 0);
        throw TargetIoError("exchanging the bad copy " + dst_rel + " for a verified one", e);
    }
    // tmp now names what was at dst_rel: remove it only if it is provably the bad copy.
    struct stat now;
    bool same = fstatat(dir.fd, tmp.c_str(), &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_dev == bad.st_dev &&
                now.st_ino == bad.st_ino && S_ISREG(now.st_mode);
    bool still_bad = false;
    if (same) {
        Fd f(openat(dir.fd, tmp.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
        try {
            still_bad = f.fd >= 0 && hash_uncached(f.fd, nullptr) != sha256;
        } catch (const IoError&) {
            still_bad = true;  // unreadable: as bad as a copy gets
        }
    }
    if (same && still_bad) {
        unlinkat(dir.fd, tmp.c_str(), 0);
    } else {
        // Not what was found bad: keep it under a name of its own.
        for (int n = 1; n <= 9999; n++) {
            int e = rename_noreplace(dir.fd, tmp.c_str(), dir.fd, collision_name(leaf, n).c_str());
            if (e == 0) break;
            if (e != EEXIST) throw TargetIoError("keeping a displaced file beside " + dst_rel, e);
        }
    }
    if (fsync(dir.fd) != 0 && errno != EINVAL) throw TargetIoError("fsync of the folder " + dir_rel, errno);
    r.outcome = CopyOutcome::Copied;
    r.final_rel = dst_rel;
    return r;
}

BackupBatch::BackupBatch(int dst_root_fd) : root_(dst_root_fd), verifier_(new CopyVerifier) {}

BackupBatch::~BackupBatch() {
    verifier_.reset();  // the helper is stopped before its temporaries go
    for (auto& e : entries_) {
        if (!e.tmp.empty()) unlinkat(e.dirfd, e.tmp.c_str(), 0);  // our own, never placed
        if (e.dirfd >= 0) close(e.dirfd);
    }
}

size_t BackupBatch::stage(int src_root_fd, const std::string& src_rel, const std::string& dst_rel,
                          const std::string& sha256) {
    check_relative_path(src_rel);
    check_relative_path(dst_rel);
    entries_.emplace_back();
    Entry& e = entries_.back();
    e.sha = sha256;
    e.src_rel = src_rel;
    split(dst_rel, &e.dir_rel, &e.leaf);
    Source src;
    if (!open_source(src_root_fd, src_rel, &src, &e.r)) return entries_.size() - 1;
    e.dirfd = open_dst_dir(root_, e.dir_rel);
    for (int n = 0; n <= 9999; n++) {
        std::string name = collision_name(e.leaf, n);
        int what = probe_existing(e.dirfd, name, sha256, nullptr);
        if (what == 1) {
            e.r.outcome = CopyOutcome::AlreadyPresent;
            e.r.final_rel = e.dir_rel.empty() ? name : e.dir_rel + "/" + name;
            return entries_.size() - 1;
        }
        if (what == 0) {
            e.n = n;
            break;
        }
    }
    if (e.n < 0) throw TargetIoError("no free name for " + dst_rel, EEXIST);
    std::unique_ptr<CopyVerifier::PendingWrite> written;
    e.tmp = make_verified_temporary(src, src_rel, e.dirfd, sha256, nullptr, &e.r, &written);
    if (!e.tmp.empty()) {
        e.r.outcome = CopyOutcome::Copied;  // once finish() has verified and placed it
        verifier_->submit(entries_.size() - 1, std::move(written), sha256, src_rel);
    }
    return entries_.size() - 1;
}

void BackupBatch::finish() {
    bool any = false;
    for (auto& e : entries_) any = any || !e.tmp.empty();
    std::map<size_t, CopyVerifier::Outcome> verified = verifier_->finish();
    if (!any) return;
    std::vector<int> dirs;
    for (size_t i = 0; i < entries_.size(); i++) {
        Entry& e = entries_[i];
        if (e.tmp.empty()) continue;
        auto v = verified.find(i);
        if (v == verified.end()) throw TargetIoError("the copy of " + e.src_rel + " was not verified", EIO);
        if (!v->second.ok) throw TargetIoError(v->second.message, v->second.err);
        for (int n = e.n, races = 0; n <= 9999; n++) {
            std::string name = collision_name(e.leaf, n);
            int err = rename_noreplace(e.dirfd, e.tmp.c_str(), e.dirfd, name.c_str());
            if (err == 0) {
                e.tmp.clear();
                e.r.final_rel = e.dir_rel.empty() ? name : e.dir_rel + "/" + name;
                break;
            }
            if (err != EEXIST && err != ENOTEMPTY) throw TargetIoError("renaming the copy to " + name, err);
            // Taken meanwhile: the same content is our copy already, other content is never touched.
            if (probe_existing(e.dirfd, name, e.sha, nullptr) == 1) {
                unlinkat(e.dirfd, e.tmp.c_str(), 0);
                e.tmp.clear();
                e.r.outcome = CopyOutcome::AlreadyPresent;
                e.r.bytes = 0;
                e.r.final_rel = e.dir_rel.empty() ? name : e.dir_rel + "/" + name;
                break;
            }
            if (++races > 100) break;
        }
        if (!e.tmp.empty()) throw TargetIoError("no free name for " + e.leaf, EEXIST);
        bool seen = false;
        struct stat st;
        if (fstat(e.dirfd, &st) == 0)
            for (int d : dirs) {
                struct stat dst;
                if (fstat(d, &dst) == 0 && dst.st_ino == st.st_ino && dst.st_dev == st.st_dev) seen = true;
            }
        if (!seen) dirs.push_back(e.dirfd);
    }
    for (int d : dirs)
        if (fsync(d) != 0 && errno != EINVAL) throw TargetIoError("fsync of a destination folder", errno);
    finished_ = true;
}

const CopyResult& BackupBatch::result(size_t i) const { return entries_.at(i).r; }

std::string set_aside(int root_fd, const std::string& rel, const std::string& aside_rel) {
    check_relative_path(rel);
    check_relative_path(aside_rel);
    std::string leaf, aside_dir_rel, aside_leaf;
    Fd sdir(open_parent_dir(root_fd, rel, &leaf));
    if (sdir.fd < 0) throw IoError("opening the folder of " + rel, errno);
    split(aside_rel, &aside_dir_rel, &aside_leaf);
    Fd adir(aside_dir_rel.empty() ? fcntl(root_fd, F_DUPFD_CLOEXEC, 0) : ensure_dir_path(root_fd, aside_dir_rel, true));
    for (int n = 0; n <= 9999; n++) {
        std::string name = collision_name(aside_leaf, n);
        int e = rename_noreplace(sdir.fd, leaf.c_str(), adir.fd, name.c_str());
        if (e == EEXIST || e == ENOTEMPTY) continue;
        if (e != 0) throw IoError("setting " + rel + " aside", e);
        fsync_dir(adir.fd);
        fsync_dir(sdir.fd);
        return aside_dir_rel.empty() ? name : aside_dir_rel + "/" + name;
    }
    throw IoError("no free name to set " + rel + " aside", EEXIST);
}

}  // namespace pf
