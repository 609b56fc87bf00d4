// Telling photos and videos from everything else, by content: a .jpg that is
// really a PNG is still a photo, and notes.txt renamed to .jpg is not.
#pragma once

#include "core/core_guard.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pf {

enum class MediaKind { Image, Video };

struct MediaType {
    MediaKind kind = MediaKind::Image;
    // lower case: jpeg, png, heic, avif, webp, gif, tiff, dng, cr2, cr3, crw, x3f, mrw, nef, arw, orf, rw2, raf, ...,
    // mp4, mov, 3gp, m4v, avi, mkv, webm, wmv, asf, mts (MPEG-TS: AVCHD .MTS/.M2TS, .ts)
    std::string format;
};

// Magic bytes / ftyp brand first; the extension only breaks ties between
// TIFF-based formats (DNG, CR2, NEF, ARW ... all start like TIFF).
std::optional<MediaType> sniff_media_type(const uint8_t* head, size_t n, std::string_view name);

}  // namespace pf
