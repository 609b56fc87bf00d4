#include "core/unique_fd.hpp"
#include "core/move_recovery.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/file_identity.hpp"
#include "core/inbox_file.hpp"
#include "core/library_layout.hpp"
#include "core/sha256.hpp"

namespace pf {
namespace {

using Fd = pf::UniqueFd;

bool stat_regular(int dirfd, const std::string& name, struct stat* st) {
    return dirfd >= 0 && fstatat(dirfd, name.c_str(), st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st->st_mode);
}

// "" unless `name` in dirfd is a readable regular file that stays the entry
// `want` while it is read: a FIFO or device is never opened (that could
// block), a link never followed, a swapped entry never trusted.
std::string hash_entry(int dirfd, const std::string& name, const struct stat& want) {
    Fd f(openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (f.fd < 0) return std::string();
    struct stat st;
    if (fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode) || !same_identity(identity_of(st), identity_of(want)))
        return std::string();
    std::string h = sha256_file_fd(f.fd);
    if (fstat(f.fd, &st) != 0 || !same_identity(identity_of(st), identity_of(want))) return std::string();
    return h;
}

// Partial copies of a cross-filesystem move are ours, never the user's: the
// source is intact whenever one exists, so they can go.
void remove_partial_copies(int dir) {
    if (dir < 0) return;
    int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    DIR* d = fdopendir(fd);
    if (d == nullptr) {
        close(fd);
        return;
    }
    while (struct dirent* de = readdir(d))
        if (std::strncmp(de->d_name, ".pf-incoming-", 13) == 0) unlinkat(dirfd(d), de->d_name, 0);
    closedir(d);
}

}  // namespace

RecoveryDecision resolve_interrupted_move(const InterruptedMove& m) {
    RecoveryDecision d;
    std::string src_name, dest_name;
    Fd src_dir(open_parent_dir(m.inbox_fd, m.source_rel, &src_name));
    Fd dest_dir(open_parent_dir(m.storage_fd, m.dest_rel, &dest_name));
    const std::string rel_dir = m.dest_rel.substr(0, m.dest_rel.rfind('/'));

    // A source whose folder is now a link (or gone) is simply not there for us.
    struct stat sst, dst;
    bool src_there = src_dir.fd >= 0 && fstatat(src_dir.fd, src_name.c_str(), &sst, AT_SYMLINK_NOFOLLOW) == 0;
    bool src_regular = src_there && S_ISREG(sst.st_mode);
    std::string src_hash;  // computed at most once
    bool src_hashed = false;

    // The planned name, then the suffixes a racing writer could have pushed us to.
    for (int n = 0; n <= 20 && dest_dir.fd >= 0; n++) {
        std::string cand_name = collision_name(dest_name, n);
        if (!stat_regular(dest_dir.fd, cand_name, &dst)) {
            if (n == 0) continue;
            break;
        }
        bool same_inode = src_there && sst.st_ino == dst.st_ino && sst.st_dev == dst.st_dev;
        // The source's own bytes, when they are what decides.
        auto source_hash = [&]() -> const std::string& {
            if (!src_hashed && src_regular) src_hash = hash_entry(src_dir.fd, src_name, sst);
            src_hashed = true;
            return src_hash;
        };
        std::string expected = m.sha256;
        if (expected.empty() && src_there && !same_inode) expected = source_hash();
        bool dest_verified = same_inode || (!expected.empty() && hash_entry(dest_dir.fd, cand_name, dst) == expected);
        // With the source gone and nothing to compare (an unreadable rejected
        // file), the planned name is where the rename took it.
        bool ours = dest_verified || (!src_there && expected.empty());
        if (!ours) continue;
        // The source goes only when it provably is what the destination holds:
        // the same inode, or its own bytes hash to the verified content; and
        // only while the name still is the entry just proven.
        bool src_proven = src_there && (same_inode || (!expected.empty() && source_hash() == expected));
        if (src_proven) {
            if (entry_is(src_dir.fd, src_name, identity_of(sst)) && unlinkat(src_dir.fd, src_name.c_str(), 0) == 0)
                fsync(src_dir.fd);
            d.note = same_inode ? "moved (link left in inbox released)" : "copied (verified; source released)";
        } else if (src_there) {
            d.note = "copied (verified); another file now has the source's name and stays in the inbox";
        } else {
            d.note = "moved";
        }
        d.finish = true;
        d.final_rel = rel_dir + "/" + cand_name;
        return d;
    }
    remove_partial_copies(dest_dir.fd);
    d.finish = false;
    d.note = src_there ? "not moved yet: file stays in the inbox" : "file vanished before it was moved";
    return d;
}

}  // namespace pf
