// RAW files: we show the camera's own rendering (the largest JPEG preview it
// embedded) instead of developing the raw sensor data.
#pragma once

#include "core/core_guard.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace pf {

struct RawPreview {
    std::string bytes;     // the preview image file (usually JPEG)
    int width = 0;
    int height = 0;
    int orientation = 1;   // EXIF orientation of the RAW (previews rarely carry their own)
};

// Throws ThumbnailError(Unsupported) when the file has no preview.
RawPreview largest_embedded_preview(const uint8_t* data, size_t n);

}  // namespace pf
