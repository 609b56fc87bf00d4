// Where renditions live and how they are written.
//
// Storage/Thumbnails/<ab>/<cd>/<asset id>-thumb.webp and -preview.jpg, where
// ab and cd are the first four hex digits of the id: ids are random (UUID v4),
// so 65,536 folders share the files evenly and none holds more than a few
// dozen even at a million assets.
#pragma once

#include "core/core_guard.hpp"

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace pf {

enum class RenditionKind { Thumbnail, Preview };

// "thumbnail" / "preview" (the SQL spelling), or nullopt.
std::optional<RenditionKind> parse_rendition_kind(std::string_view s);

// True for a lower-case canonical UUID (8-4-4-4-12 hex digits).
bool is_canonical_uuid(std::string_view id);

// "ab/cd" for id "abcd....". Throws pf::Error unless id is canonical.
std::string rendition_dir(std::string_view id);
// "<id>-thumb.webp" / "<id>-preview.jpg".
std::string rendition_name(std::string_view id, RenditionKind kind);
// rendition_dir + "/" + rendition_name, relative to Thumbnails/.
std::string rendition_rel_path(std::string_view id, RenditionKind kind);

// Opens rel_path below root_fd for reading, one component at a time with
// O_NOFOLLOW (a symlink anywhere is ELOOP, '..' and empty components are
// refused): the kernel never resolves a path we built as text. Throws
// pf::IoError (errno ENOENT/ENOTDIR: the file is missing).
int open_file_beneath(int root_fd, const std::string& rel_path);

struct RenditionBytes {
    std::string thumbnail;  // WebP
    std::string preview;    // JPEG
};

// Writes both renditions of an asset below thumbs_root_fd (Thumbnails/):
// each to a hidden temporary of a fixed name (a retry after a crash reuses
// it), fsynced, then renamed over the final name, and the folder fsynced.
// When this returns both files are complete and durable; a crash before that
// leaves at most hidden temporaries, never a half-written final name.
// Replacing is deliberate: these are our derived files, never originals.
// Folders it creates get dir_mode and both files get file_mode exactly
// (photofactory.storage_mode, as the librarian applies it to Originals/);
// 0 leaves folders 0750 and files 0640, minus the umask.
void write_renditions(int thumbs_root_fd, std::string_view id, const RenditionBytes& bytes, mode_t dir_mode = 0,
                      mode_t file_mode = 0);

}  // namespace pf
