#include "core/file_identity.hpp"

#include <fcntl.h>

namespace pf {

FileIdentity identity_of(const struct stat& st) {
    FileIdentity id;
    id.dev = static_cast<uint64_t>(st.st_dev);
    id.ino = static_cast<uint64_t>(st.st_ino);
    id.size = static_cast<int64_t>(st.st_size);
    id.mtime_sec = static_cast<int64_t>(st.st_mtim.tv_sec);
    id.mtime_nsec = static_cast<int64_t>(st.st_mtim.tv_nsec);
    id.nlink = static_cast<uint64_t>(st.st_nlink);
    id.known = true;
    return id;
}

bool same_identity(const FileIdentity& a, const FileIdentity& b) {
    return a.dev == b.dev && a.ino == b.ino && a.size == b.size && a.mtime_sec == b.mtime_sec &&
           a.mtime_nsec == b.mtime_nsec;
}

bool entry_is(int dirfd, const std::string& name, const FileIdentity& want) {
    if (!want.known) return true;
    struct stat st;
    if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
    return same_identity(identity_of(st), want);
}

}  // namespace pf
