// Capture date and GPS of still images, through Exiv2 (JPEG, HEIC/AVIF via
// BMFF, PNG eXIf, WebP, TIFF and the RAW formats Exiv2 knows).
#pragma once

#include "core/core_guard.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/datetime.hpp"
#include "core/geo.hpp"

namespace pf {

enum class LogLevel { Debug, Info, Warning, Error };

// Once per process, before any concurrent use: enables BMFF (HEIC) reading,
// initialises the XMP parser, and routes Exiv2's messages to the sink.
void init_metadata_library();

// Plain function pointer on purpose: Exiv2 calls it from deep in its frames.
void set_log_sink(void (*sink)(LogLevel, const char* message));

struct ImageFacts {
    std::optional<LocalDateTime> captured;
    std::optional<int> offset_minutes;
    std::string date_source;  // exif_original | exif_digitized | exif_image | xmp | "" (none)
    std::optional<GeoPoint> location;
    std::vector<std::string> errors;  // what went wrong reading metadata; never thrown
};

// Precedence: Exif DateTimeOriginal (+OffsetTimeOriginal, SubSecTimeOriginal)
// -> DateTimeDigitized (+OffsetTimeDigitized) -> Image DateTime (+OffsetTime)
// -> XMP exif:DateTimeOriginal, photoshop:DateCreated, xmp:CreateDate.
// Implausible values fall through to the next source.
ImageFacts read_image_facts(const uint8_t* data, size_t n, int64_t now_epoch = 0);
ImageFacts read_image_facts_path(const std::string& path, int64_t now_epoch = 0);

}  // namespace pf
