#include "core/media_type.hpp"

#include <algorithm>
#include <cstring>

namespace pf {
namespace {

std::string lower_ext(std::string_view name) {
    size_t dot = name.rfind('.');
    if (dot == std::string_view::npos) return "";
    std::string e(name.substr(dot + 1));
    std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return e;
}

// Signatures are string literals that may hold NUL bytes ("MM\0*"): their
// length is the array's, never strlen's (which made every "MM..." a TIFF).
template <size_t N>
bool at(const uint8_t* h, size_t n, size_t off, const char (&magic)[N]) {
    constexpr size_t len = N - 1;
    return n >= off + len && std::memcmp(h + off, magic, len) == 0;
}

// MPEG transport stream: a 0x47 sync byte every 188 bytes (broadcast .ts) or
// every 192 bytes after a 4-byte timecode (AVCHD .MTS/.M2TS, Blu-ray).
// Four packets in a row, so a text starting with 'G' is not a video.
bool is_transport_stream(const uint8_t* h, size_t n) {
    for (size_t packet : {size_t(188), size_t(192)}) {
        size_t first = packet == 192 ? 4 : 0;
        bool all = n >= first + 3 * packet + 1;
        for (size_t i = 0; all && i < 4; i++) all = h[first + i * packet] == 0x47;
        if (all) return true;
    }
    return false;
}

// The Advanced Systems Format header object GUID (WMV/WMA/ASF).
const char kAsfHeader[] = "\x30\x26\xB2\x75\x8E\x66\xCF\x11\xA6\xD9\x00\xAA\x00\x62\xCE\x6C";

std::optional<MediaType> from_ftyp(const uint8_t* h, size_t n, const std::string& ext) {
    // ftyp: major brand at 8, compatible brands from 16 up to the box size.
    auto brand_is = [&](const char (&b)[5]) {
        uint32_t size = (uint32_t(h[0]) << 24) | (uint32_t(h[1]) << 16) | (uint32_t(h[2]) << 8) | h[3];
        size_t end = std::min<size_t>(n, size < 8 ? n : size);
        if (n >= 12 && std::memcmp(h + 8, b, 4) == 0) return true;  // brands are 4 bytes
        for (size_t off = 16; off + 4 <= end; off += 4)
            if (std::memcmp(h + off, b, 4) == 0) return true;
        return false;
    };
    if (at(h, n, 8, "heic") || at(h, n, 8, "heix") || at(h, n, 8, "heim") || at(h, n, 8, "heis") ||
        at(h, n, 8, "hevc") || at(h, n, 8, "hevx"))
        return MediaType{MediaKind::Image, "heic"};
    if (at(h, n, 8, "avif") || at(h, n, 8, "avis")) return MediaType{MediaKind::Image, "avif"};
    if (at(h, n, 8, "crx ")) return MediaType{MediaKind::Image, "cr3"};
    if (at(h, n, 8, "mif1") || at(h, n, 8, "msf1")) {
        if (brand_is("avif")) return MediaType{MediaKind::Image, "avif"};
        return MediaType{MediaKind::Image, "heic"};
    }
    if (at(h, n, 8, "qt  ")) return MediaType{MediaKind::Video, "mov"};
    if (at(h, n, 8, "3gp") || at(h, n, 8, "3g2")) return MediaType{MediaKind::Video, "3gp"};
    if (at(h, n, 8, "M4V ") || at(h, n, 8, "M4VH") || at(h, n, 8, "M4VP")) return MediaType{MediaKind::Video, "m4v"};
    if (at(h, n, 8, "M4A ") || at(h, n, 8, "M4B ")) return std::nullopt;  // audio
    if (ext == "mov") return MediaType{MediaKind::Video, "mov"};
    if (ext == "m4v") return MediaType{MediaKind::Video, "m4v"};
    return MediaType{MediaKind::Video, "mp4"};
}

}  // namespace

std::optional<MediaType> sniff_media_type(const uint8_t* h, size_t n, std::string_view name) {
    const std::string ext = lower_ext(name);
    if (n >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF) return MediaType{MediaKind::Image, "jpeg"};
    if (at(h, n, 0, "\x89PNG\r\n\x1a\n")) return MediaType{MediaKind::Image, "png"};
    if (at(h, n, 0, "GIF87a") || at(h, n, 0, "GIF89a")) return MediaType{MediaKind::Image, "gif"};
    if (at(h, n, 0, "RIFF") && at(h, n, 8, "WEBP")) return MediaType{MediaKind::Image, "webp"};
    if (at(h, n, 0, "RIFF") && at(h, n, 8, "AVI ")) return MediaType{MediaKind::Video, "avi"};
    if (at(h, n, 0, "\x1a\x45\xdf\xa3")) return MediaType{MediaKind::Video, ext == "webm" ? "webm" : "mkv"};
    if (at(h, n, 4, "ftyp")) return from_ftyp(h, n, ext);
    // QuickTime files without ftyp start straight with moov/mdat/wide/free.
    if (at(h, n, 4, "moov") || at(h, n, 4, "mdat") || at(h, n, 4, "wide") || at(h, n, 4, "free") ||
        at(h, n, 4, "skip") || at(h, n, 4, "pnot"))
        if (ext == "mov" || ext == "mp4" || ext == "qt" || ext == "m4v")
            return MediaType{MediaKind::Video, ext == "qt" ? "mov" : ext};
    if (at(h, n, 0, kAsfHeader)) {
        if (ext == "wma") return std::nullopt;  // audio
        return MediaType{MediaKind::Video, ext == "asf" ? "asf" : "wmv"};
    }
    if (is_transport_stream(h, n)) return MediaType{MediaKind::Video, "mts"};
    // RAW families whose header is not TIFF's.
    if ((at(h, n, 0, "II") || at(h, n, 0, "MM")) && at(h, n, 6, "HEAPCCDR")) return MediaType{MediaKind::Image, "crw"};
    if (at(h, n, 0, "FOVb")) return MediaType{MediaKind::Image, "x3f"};
    if (at(h, n, 0, "\0MRM")) return MediaType{MediaKind::Image, "mrw"};
    if (at(h, n, 0, "FUJIFILMCCD-RAW")) return MediaType{MediaKind::Image, "raf"};
    if (at(h, n, 0, "IIRO") || at(h, n, 0, "IIRS") || at(h, n, 0, "MMOR")) return MediaType{MediaKind::Image, "orf"};
    if (at(h, n, 0, "IIU\x00")) return MediaType{MediaKind::Image, "rw2"};
    if (at(h, n, 0, "II*\x00") || at(h, n, 0, "MM\x00*")) {
        if (at(h, n, 8, "CR")) return MediaType{MediaKind::Image, "cr2"};
        static const char* raws[] = {"dng", "nef", "nrw", "arw", "srf", "sr2", "pef", "orf", "rw2", "srw", "3fr", "erf", "kdc", "dcr", "mos", "iiq", "rwl", "raw"};
        for (const char* r : raws)
            if (ext == r) return MediaType{MediaKind::Image, r};
        return MediaType{MediaKind::Image, "tiff"};
    }
    return std::nullopt;
}

}  // namespace pf
