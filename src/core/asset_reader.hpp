// The heart of ingest: one streaming read of a file gives both its SHA-256 and
// its metadata, and the capture-date chain decides where it belongs.
#pragma once

#include "core/core_guard.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/datetime.hpp"
#include "core/geo.hpp"
#include "core/media_type.hpp"

namespace pf {

struct AssetFacts {
    std::string sha256;
    uint64_t size_bytes = 0;
    MediaType type;
    LocalDateTime captured;                 // local wall clock; always set (mtime is the last resort)
    std::optional<int> utc_offset_minutes;  // when the file (or the zone used) says
    // exif_original | exif_digitized | exif_image | xmp | video_local | video_utc | filename | mtime
    std::string date_source;
    std::optional<GeoPoint> location;
    std::vector<std::string> metadata_errors;  // non-fatal: ingested with has_errors
};

struct ReadOptions {
    size_t head_bytes = 8u << 20;   // kept in memory for the metadata parsers
    size_t chunk_bytes = 1u << 20;  // read() size
    int64_t now_epoch = 0;          // 0: time(nullptr)
    // UTC offset (minutes) of the zone used for times known only in UTC and for
    // mtime; nullptr means UTC.
    int (*utc_offset_for)(int64_t utc_epoch, void* ctx) = nullptr;
    void* utc_offset_ctx = nullptr;
};

// Reads from offset 0 whatever the descriptor's position.
// Throws RejectError (Empty, NotRegularFile, NotMedia, Unstable) and IoError.
// Memory stays bounded by head_bytes + chunk_bytes whatever the file size.
AssetFacts read_asset(int fd, std::string_view file_name, const ReadOptions& opts = {});

}  // namespace pf
