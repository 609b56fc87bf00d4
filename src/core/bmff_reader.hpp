// Capture time and place of MP4 / MOV / M4V / 3GP videos from their ISO-BMFF
// (QuickTime) boxes. Walks box headers with positioned reads and loads only the
// few small boxes it needs, so memory stays bounded whatever the file size and
// wherever `moov` sits (often at the very end).
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

class RandomAccess {
public:
    virtual ~RandomAccess() = default;
    virtual uint64_t size() const = 0;
    // Reads up to n bytes at off; returns how many were read (0 at or past the end).
    virtual size_t read_at(uint64_t off, void* buf, size_t n) const = 0;
};

class FdRandomAccess : public RandomAccess {
public:
    explicit FdRandomAccess(int fd);  // size taken from fstat
    uint64_t size() const override { return size_; }
    size_t read_at(uint64_t off, void* buf, size_t n) const override;

private:
    int fd_;
    uint64_t size_;
};

class MemoryRandomAccess : public RandomAccess {
public:
    MemoryRandomAccess(const uint8_t* data, size_t n) : data_(data), n_(n) {}
    uint64_t size() const override { return n_; }
    size_t read_at(uint64_t off, void* buf, size_t n) const override;

private:
    const uint8_t* data_;
    size_t n_;
};

struct VideoFacts {
    std::optional<int64_t> creation_utc_epoch;   // mvhd creation time (UTC, v0 32-bit or v1 64-bit); absent when 0
    std::optional<LocalDateTime> apple_local;    // com.apple.quicktime.creationdate (local wall clock)
    std::optional<int> apple_offset_minutes;     // its UTC offset
    // ©day (udta text, or an ilst item): a date with its zone ("2023-12-25T12:34:56+0100"), as some
    // Android phones and cameras write it. day_offset_minutes is set when it carried a zone (Z = 0).
    std::optional<LocalDateTime> day_local;
    std::optional<int> day_offset_minutes;
    // Other containers (video_containers.hpp): the local wall clock a camera wrote
    // (AVI IDIT, the EXIF of an AVI strd chunk, AVCHD MDPM), with its offset when known.
    std::optional<LocalDateTime> camera_local;
    std::optional<int> camera_offset_minutes;
    std::optional<GeoPoint> location;            // udta/©xyz, udta/loci or com.apple.quicktime.location.ISO6709
    std::vector<std::string> errors;             // truncated or inconsistent boxes (never thrown)
};

VideoFacts read_video_facts(const RandomAccess& in);

// Metadata items of a HEIF/AVIF still (ISO/IEC 23008-12): the file-level `meta`
// box, its `iinf` item of type `Exif` (and `mime` application/rdf+xml for XMP),
// located through `iloc` (file offsets or `idat`, any number of extents). This
// is our own reading, used when Exiv2 finds nothing in a file that has them.
struct HeifMetadata {
    std::string exif;  // the TIFF block, from its byte-order mark ("II*\0" / "MM\0*"); empty when none
    std::string xmp;   // the XMP packet; empty when none
    std::vector<std::string> errors;
};

HeifMetadata read_heif_metadata(const RandomAccess& in);

// Canon CR3: moov/uuid 85c0b687-820f-11e0-8111-f4ce462b6a48 holds the EXIF as
// separate TIFF blocks, each with its tags in its first IFD: CMT1 (IFD0), CMT2
// (the EXIF IFD), CMT4 (the GPS IFD). Our own reading, used when Exiv2 finds nothing.
struct Cr3Metadata {
    std::string ifd0, exif, gps;  // whole TIFF blocks from their byte-order mark; empty when absent
    std::vector<std::string> errors;
};

Cr3Metadata read_cr3_metadata(const RandomAccess& in);

// "+35.6762+139.6503+012.000/" (ISO 6709, decimal degrees) -> point.
std::optional<GeoPoint> parse_iso6709(const std::string& s);

}  // namespace pf
