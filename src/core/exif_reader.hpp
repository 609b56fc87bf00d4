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
    // Google/Samsung Motion Photo (a JPEG with an MP4 appended): XMP GCamera:MotionPhoto or
    // GCamera:MicroVideo = 1, or Samsung's "MotionPhoto_Data" marker. Still one image asset.
    bool motion_photo = false;
    bool has_metadata = false;        // Exiv2 (or our fallback) found any EXIF or XMP at all
    std::vector<std::string> errors;  // what went wrong reading metadata; never thrown
};

// Precedence: Exif DateTimeOriginal (+OffsetTimeOriginal, SubSecTimeOriginal)
// -> DateTimeDigitized (+OffsetTimeDigitized) -> Image DateTime (+OffsetTime)
// -> XMP exif:DateTimeOriginal, photoshop:DateCreated, xmp:CreateDate.
// Implausible values fall through to the next source.
ImageFacts read_image_facts(const uint8_t* data, size_t n, int64_t now_epoch = 0);
ImageFacts read_image_facts_path(const std::string& path, int64_t now_epoch = 0);

// The same rules over a bare TIFF/EXIF block (from its "II*\0"/"MM\0*" header,
// decoded with Exiv2::ExifParser) and/or an XMP packet: what our own readers
// find in HEIF items and PNG eXIf chunks when Exiv2 did not.
ImageFacts read_exif_block(const std::string& tiff, const std::string& xmp_packet, int64_t now_epoch = 0);

// The same rules over the EXIF of a Canon CR3 (read_cr3_metadata): three TIFF
// blocks whose first IFDs hold IFD0's, the EXIF IFD's and the GPS IFD's tags.
ImageFacts read_cr3_blocks(const std::string& ifd0, const std::string& exif_ifd, const std::string& gps_ifd,
                           int64_t now_epoch = 0);

// PNG chunks `eXIf` (a TIFF block) and `iTXt` XML:com.adobe.xmp, wherever they
// sit (Exiv2 0.27 misses an eXIf chunk after IDAT). Empty strings when absent.
void find_png_metadata(const uint8_t* data, size_t n, std::string& exif, std::string& xmp);

// The first EXIF block ("Exif\0\0" and a TIFF header) embedded in raw bytes,
// e.g. the JPEG preview inside a Sigma X3F, whose container Exiv2 0.27 does not
// read; bounded by its APP1 segment when it sits in one. Empty when there is none.
std::string find_embedded_exif(const uint8_t* data, size_t n);

// The first XMP packet embedded in raw bytes ("<x:xmpmeta ... </x:xmpmeta>"),
// e.g. a GIF's "XMP DataXMP" application extension, which Exiv2 0.27 does not
// read. Empty when there is none.
std::string find_xmp_packet(const uint8_t* data, size_t n);

// True when the bytes hold a Motion Photo marker: XMP GCamera:MotionPhoto /
// MicroVideo set to 1, or Samsung's "MotionPhoto_Data".
bool has_motion_photo_marker(const uint8_t* data, size_t n);

}  // namespace pf
