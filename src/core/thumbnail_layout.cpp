#include "core/unique_fd.hpp"
#include "core/thumbnail_layout.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/errors.hpp"
#include "core/safe_move.hpp"

namespace pf {
namespace {

using Fd = pf::UniqueFd;

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

const char* suffix(RenditionKind kind) { return kind == RenditionKind::Thumbnail ? "-thumb.webp" : "-preview.jpg"; }

void write_all(int fd, const std::string& bytes, const std::string& what) {
    const char* p = bytes.data();
    size_t n = bytes.size();
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            throw IoError("writing " + what, errno);
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
}

// The temporary is ours (hidden, fixed name per asset and kind): a leftover
// from a crash is simply truncated and rewritten.
void write_temp(int dirfd, const std::string& tmp, const std::string& bytes, mode_t file_mode) {
    Fd f(openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640));
    if (f.fd < 0) throw IoError("creating " + tmp, errno);
    // On the descriptor, before the rename: the final name never has another mode.
    if (file_mode != 0 && fchmod(f.fd, file_mode) != 0) throw IoError("setting the mode of " + tmp, errno);
    write_all(f.fd, bytes, tmp);
    fsync_fd(f.fd);
}

}  // namespace

std::optional<RenditionKind> parse_rendition_kind(std::string_view s) {
    if (s == "thumbnail") return RenditionKind::Thumbnail;
    if (s == "preview") return RenditionKind::Preview;
    return std::nullopt;
}

bool is_canonical_uuid(std::string_view id) {
    if (id.size() != 36) return false;
    for (size_t i = 0; i < id.size(); i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? id[i] != '-' : !is_hex(id[i])) return false;
    }
    return true;
}

std::string rendition_dir(std::string_view id) {
    if (!is_canonical_uuid(id)) throw Error("not a canonical asset id: " + std::string(id));
    return std::string(id.substr(0, 2)) + "/" + std::string(id.substr(2, 2));
}

std::string rendition_name(std::string_view id, RenditionKind kind) {
    if (!is_canonical_uuid(id)) throw Error("not a canonical asset id: " + std::string(id));
    return std::string(id) + suffix(kind);
}

std::string rendition_rel_path(std::string_view id, RenditionKind kind) {
    return rendition_dir(id) + "/" + rendition_name(id, kind);
}

int open_file_beneath(int root_fd, const std::string& rel_path) {
    Fd cur(fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
    if (cur.fd < 0) throw IoError("dup", errno);
    size_t start = 0;
    for (;;) {
        size_t slash = rel_path.find('/', start);
        bool last = slash == std::string::npos;
        std::string comp = rel_path.substr(start, last ? std::string::npos : slash - start);
        if (comp.empty() || comp == "." || comp == "..")
            throw IoError("refusing path component '" + comp + "' in " + rel_path, EINVAL);
        int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? O_NONBLOCK : O_DIRECTORY);
        int next = openat(cur.fd, comp.c_str(), flags);
        if (next < 0) {
            int e = errno;
            // O_DIRECTORY|O_NOFOLLOW on a symlink says ENOTDIR: name it a loop,
            // so that it is not taken for a missing file.
            struct stat st;
            if (e == ENOTDIR && fstatat(cur.fd, comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                e = ELOOP;
            throw IoError("opening " + rel_path, e);
        }
        close(cur.fd);
        cur.fd = next;
        if (last) break;
        start = slash + 1;
    }
    // O_NONBLOCK only so that a FIFO planted under the name cannot block the
    // open; reading a regular file ignores it, but clear it anyway.
    int fl = fcntl(cur.fd, F_GETFL);
    if (fl >= 0) (void)fcntl(cur.fd, F_SETFL, fl & ~O_NONBLOCK);
    return cur.release();
}

void write_renditions(int thumbs_root_fd, std::string_view id, const RenditionBytes& bytes, mode_t dir_mode,
                      mode_t file_mode) {
    Fd dir(ensure_dir_path(thumbs_root_fd, rendition_dir(id), true, dir_mode));
    const std::string thumb = rendition_name(id, RenditionKind::Thumbnail);
    const std::string preview = rendition_name(id, RenditionKind::Preview);
    const std::string thumb_tmp = "." + thumb + ".tmp";
    const std::string preview_tmp = "." + preview + ".tmp";
    write_temp(dir.fd, preview_tmp, bytes.preview, file_mode);
    write_temp(dir.fd, thumb_tmp, bytes.thumbnail, file_mode);
    if (renameat(dir.fd, preview_tmp.c_str(), dir.fd, preview.c_str()) != 0)
        throw IoError("renaming " + preview_tmp, errno);
    if (renameat(dir.fd, thumb_tmp.c_str(), dir.fd, thumb.c_str()) != 0)
        throw IoError("renaming " + thumb_tmp, errno);
    fsync_dir(dir.fd);
}

}  // namespace pf
