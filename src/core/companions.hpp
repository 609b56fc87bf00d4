// Files that belong together: a Live Photo's still and video, a RAW and the
// JPEG the camera made beside it, and any file with its sidecars (.xmp from
// Lightroom/darktable, .aae edits from iOS, .json from Google Takeout). They
// share a base name in one inbox folder; they travel together: one date
// folder (the leader's), one collision suffix, one group in the ledger.
#pragma once

#include "core/core_guard.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf {

enum class SidecarKind { None, Xmp, Aae, Json };
SidecarKind sidecar_kind(std::string_view name);  // by extension, any case
const char* to_string(SidecarKind k);             // "xmp", "aae", "json"

// name == stem + tail. The stem is what companions share; the tail is kept
// when a collision suffix is added: "IMG_1.HEIC" -> {"IMG_1", ".HEIC"},
// sidecar "IMG_1.HEIC.xmp" -> {"IMG_1", ".HEIC.xmp"},
// "IMG_1.HEIC.supplemental-metadata.json" -> {"IMG_1", ".HEIC.supplemental-metadata.json"}.
struct NameParts {
    std::string stem;
    std::string tail;
    std::string key_stem;  // the stem that groups: iOS's IMG_E1234 (edited) and IMG_O1234.AAE join IMG_1234
};
NameParts split_name(std::string_view name, bool sidecar);

// What groups companions: the inbox folder and the key stem, ASCII
// lower-cased (libraries end up on case-insensitive macOS and Windows disks).
std::string companion_key(std::string_view rel_path, bool sidecar);

// The key of an inbox file by its raw relative path (sanitised first, so it
// can be stored; a sidecar is told by its extension). The one definition the
// librarian's grouping and the ledger's group_key share.
std::string inbox_companion_key(std::string_view raw_rel_path);

// The name a Syncthing temporary will get once complete (".syncthing.X.tmp"
// and "~syncthing~X.tmp" -> "X"), so its companions can wait for it; "" otherwise.
std::string syncthing_final_name(std::string_view temp_name);

// ASCII lower case; bytes >= 0x80 untouched (names need not be UTF-8).
std::string ascii_lower(std::string_view s);

// Which file of a group leads (its capture date names the folder): RAW, then
// other stills, then videos. Lower is stronger. Sidecars never lead.
int leader_rank(bool video, std::string_view format);

// stem + suffix + tail, the stem shortened (never inside a UTF-8 sequence)
// so the name stays within 255 bytes.
std::string suffixed_name(const std::string& stem, const std::string& suffix, const std::string& tail);

// Choosing destination names that collide with nothing: not with what is on
// disk, not with moves in flight, not with each other, all compared ASCII
// case-insensitively. Requests of one group get one common suffix.
struct NameRequest {
    std::string dir;           // relative to the storage root
    std::string stem, tail;    // the name is stem + suffix + tail
    std::string base_suffix;   // tried first ("~1" when joining an anchor stored as IMG_1~1.HEIC)
    int group = -1;            // >= 0: same suffix as every request of that group
};
// Returns "dir/name" per request. reserved: storage-relative paths promised
// to moves in flight. Folders are listed through storage_fd without
// following links; a missing folder is empty.
std::vector<std::string> plan_names(int storage_fd, const std::vector<std::string>& reserved,
                                    const std::vector<NameRequest>& requests);

// A sidecar's content: hashed with one read, refused above max_bytes (a
// "sidecar" that large is something else). Throws IoError / RejectError.
struct SidecarFacts {
    std::string sha256;
    uint64_t size_bytes = 0;
};
SidecarFacts read_sidecar(int root_fd, const std::string& rel_path, uint64_t max_bytes = 16u << 20);

}  // namespace pf
