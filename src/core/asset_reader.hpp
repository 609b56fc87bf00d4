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
    LocalDateTime captured;                 // local wall clock, with sub-seconds; always set (mtime is the last resort)
    std::optional<int> utc_offset_minutes;  // when the file (or the zone used) says
    // exif_original | exif_digitized | exif_image | xmp | video_local | video_utc | filename | mtime
    std::string date_source;
    // The capture instant (seconds since 1970, UTC) whenever it is known: mvhd, an
    // EXIF/XMP/QuickTime time with its offset, the mtime. Unset for a wall clock
    // without offset (EXIF without OffsetTime*, file names).
    std::optional<int64_t> utc_epoch;
    // Which zone turned a UTC time into `captured`, or said the offset:
    //   zone_source "file"    the file gave the offset (time_zone empty)
    //               "gps"     zone_from_location() of the file's position (time_zone e.g. "Europe/Berlin")
    //               "default" ReadOptions::default_zone_name (photofactory.default_timezone or TimeZone)
    //               "paired"  set by the librarian's plan step from a companion still (not by read_asset)
    //               ""        no zone involved (wall clock without offset, file name)
    std::string time_zone;
    std::string zone_source;
    bool motion_photo = false;  // Google/Samsung Motion Photo: a JPEG carrying a video, still one image asset
    std::optional<GeoPoint> location;
    std::vector<std::string> metadata_errors;  // non-fatal: ingested with has_errors
};

// "gps:Europe/Berlin", "default:Europe/Paris", "file", or "" (no zone involved):
// the media_assets.time_zone column.
std::string time_zone_label(const AssetFacts& f);

// Offset (minutes east of UTC) at the instant utc_epoch in the IANA zone `zone`,
// or in the default zone when zone is nullptr. Returns false when the zone is
// unknown to the caller's time-zone database; the core then uses the default zone.
// Called from inside core code: it must not throw or longjmp.
using UtcOffsetFn = bool (*)(int64_t utc_epoch, const char* zone, int* offset_minutes, void* ctx);

struct ReadOptions {
    size_t head_bytes = 8u << 20;   // kept in memory for the metadata parsers
    size_t chunk_bytes = 1u << 20;  // read() size
    int64_t now_epoch = 0;          // 0: time(nullptr)
    // The zone used for times known only in UTC (mvhd) and for mtime. nullptr
    // callback: UTC for everything, and GPS zones are not consulted.
    UtcOffsetFn utc_offset_for = nullptr;
    void* utc_offset_ctx = nullptr;
    const char* default_zone_name = nullptr;  // recorded in AssetFacts::time_zone; nullptr: "UTC"
    bool zone_from_gps = true;                // try zone_from_location() before the default zone
    // Files larger than this are refused before any byte is read
    // (RejectError TooLarge; photofactory.max_file_size). 0: no limit.
    uint64_t max_bytes = 0;
    // Polled between chunks: returning true stops the read with pf::Cancelled,
    // so a huge file never holds up a cancel, a statement timeout or a
    // shutdown. Must not throw or longjmp.
    bool (*cancelled)(void* ctx) = nullptr;
    void* cancel_ctx = nullptr;
};

// Reads from offset 0 whatever the descriptor's position.
// Throws RejectError (Empty, NotRegularFile, NotMedia, Unstable, TooLarge),
// IoError, and Cancelled (opts.cancelled).
// Memory stays bounded by head_bytes + chunk_bytes whatever the file size.
AssetFacts read_asset(int fd, std::string_view file_name, const ReadOptions& opts = {});

}  // namespace pf
