#include "core/move_recovery.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/library_layout.hpp"
#include "core/sha256.hpp"

namespace pf {
namespace {

bool lstat_regular(const std::string& path, struct stat* st) {
    return lstat(path.c_str(), st) == 0 && S_ISREG(st->st_mode);
}

// "" when the path is not a readable regular file: a FIFO or device in the
// inbox is never opened (that could block), a link never followed.
std::string hash_path(const std::string& path) {
    struct stat st;
    if (!lstat_regular(path, &st)) return std::string();
    int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return std::string();
    std::string h;
    try {
        h = sha256_file_fd(fd);
    } catch (...) {
        close(fd);
        throw;
    }
    close(fd);
    return h;
}

void fsync_parent(const std::string& path) {
    std::string dir = path.substr(0, path.rfind('/'));
    int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

// Partial copies of a cross-filesystem move are ours, never the user's: the
// source is intact whenever one exists, so they can go.
void remove_partial_copies(const std::string& dir) {
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return;
    while (struct dirent* de = readdir(d))
        if (std::strncmp(de->d_name, ".pf-incoming-", 13) == 0) unlinkat(dirfd(d), de->d_name, 0);
    closedir(d);
}

}  // namespace

RecoveryDecision resolve_interrupted_move(const InterruptedMove& m) {
    RecoveryDecision d;
    const std::string src = m.inbox_root + "/" + m.source_rel;
    const std::string dest_dir = m.storage_root + "/" + m.dest_rel.substr(0, m.dest_rel.rfind('/'));
    const std::string dest_name = m.dest_rel.substr(m.dest_rel.rfind('/') + 1);

    struct stat sst, dst;
    bool src_there = lstat(src.c_str(), &sst) == 0;

    // The planned name, then the suffixes a racing writer could have pushed us to.
    for (int n = 0; n <= 20; n++) {
        std::string rel_dir = m.dest_rel.substr(0, m.dest_rel.rfind('/'));
        std::string cand_rel = rel_dir + "/" + collision_name(dest_name, n);
        std::string cand = m.storage_root + "/" + cand_rel;
        if (!lstat_regular(cand, &dst)) {
            if (n == 0) continue;
            break;
        }
        bool same_inode = src_there && sst.st_ino == dst.st_ino && sst.st_dev == dst.st_dev;
        std::string expected = m.sha256;
        if (expected.empty() && src_there && !same_inode) expected = hash_path(src);
        bool verified = same_inode || (!expected.empty() && hash_path(cand) == expected);
        // The source goes only when the destination provably holds it. With the
        // source gone and nothing to compare (an unreadable rejected file), the
        // planned name is where the rename took it.
        bool ours = verified || (!src_there && expected.empty());
        if (!ours) continue;
        if (src_there) {
            // The destination holds verified identical content: releasing the
            // source completes the move the crash interrupted.
            if (unlink(src.c_str()) == 0) fsync_parent(src);
            d.note = same_inode ? "moved (link left in inbox released)" : "copied (verified; source released)";
        } else {
            d.note = "moved";
        }
        d.finish = true;
        d.final_rel = cand_rel;
        return d;
    }
    remove_partial_copies(dest_dir);
    d.finish = false;
    d.note = src_there ? "not moved yet: file stays in the inbox" : "file vanished before it was moved";
    return d;
}

}  // namespace pf
