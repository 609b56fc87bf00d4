// Renditions of one original: a small WebP thumbnail and a screen-sized JPEG
// preview, made with libvips, libjpeg-turbo for JPEGs (decoded at the M/8
// scale just above the preview size, jpeg_scaled_decode.hpp), libswscale for
// lanczos resizing, Exiv2's embedded previews for RAW files and FFmpeg for
// videos. Pure C++: no PostgreSQL here.
//
// Pictures come out right: EXIF orientation applied, embedded ICC profiles
// converted to sRGB, 16-bit and grey images made 8-bit sRGB, alpha flattened
// on white for the JPEG, the first frame of an animation, a bright frame of a
// video in its display orientation.
//
// Limits are checked from the header before any pixel is decoded: a file that
// declares more pixels than max_pixels, or whose decoder would need the whole
// image in memory (interlaced PNG, progressive JPEG, HEIC, GIF) beyond
// max_decode_bytes, is refused with ThumbFailure::TooLarge.
#pragma once

#include "core/core_guard.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/thumbnail_error.hpp"
#include "core/thumbnail_layout.hpp"

namespace pf {

struct RenderSettings {
    int thumbnail_size = 250;                // longest side, WebP
    int preview_size = 1440;                 // longest side, JPEG
    int thumbnail_quality = 80;
    int preview_quality = 85;
    int64_t max_pixels = 512LL * 1000 * 1000;        // declared width x height
    size_t max_decode_bytes = 256u * 1024 * 1024;    // whole-image decoders only
    size_t max_raw_bytes = 256u * 1024 * 1024;       // RAW files are read into memory for Exiv2
};

struct RenderResult {
    RenditionBytes bytes;
    int source_width = 0;   // as declared by the file (a video: its coded frame)
    int source_height = 0;
    int thumbnail_width = 0, thumbnail_height = 0;
    int preview_width = 0, preview_height = 0;
    std::string decoder;    // e.g. "VipsForeignLoadJpegSource", "raw preview", "ffmpeg h264 @1.0s"
};

// Renders both renditions of the open file fd. file_name (the stored name)
// only breaks ties between TIFF-based RAW formats. Call imaging_init() first.
// Blocks all signals in the calling thread while the libraries run (see
// imaging_runtime.hpp). Throws ThumbnailError.
RenderResult render_renditions(int fd, std::string_view file_name, const RenderSettings& settings);

}  // namespace pf
