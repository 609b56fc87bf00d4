#include "core/asset_reader.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "core/bmff_reader.hpp"
#include "core/errors.hpp"
#include "core/exif_reader.hpp"
#include "core/filename_date.hpp"
#include "core/sha256.hpp"
#include "core/video_containers.hpp"
#include "core/zone_from_location.hpp"

namespace pf {
namespace {

const char* default_name(const ReadOptions& o) {
    return o.default_zone_name && *o.default_zone_name ? o.default_zone_name : "UTC";
}

// Wall clock of a UTC instant in the default zone (zone_source "default").
void date_in_default_zone(const ReadOptions& o, int64_t utc, AssetFacts& f, LocalDateTime& t, int& off) {
    off = 0;
    if (o.utc_offset_for == nullptr || !o.utc_offset_for(utc, nullptr, &off, o.utc_offset_ctx)) off = 0;
    t = from_epoch(utc, off);
    f.time_zone = default_name(o);
    f.zone_source = "default";
}

// Wall clock of a UTC instant, in the zone of the file's GPS position when the
// caller knows that zone, else in the default zone.
void date_in_best_zone(const ReadOptions& o, int64_t utc, AssetFacts& f, LocalDateTime& t, int& off) {
    if (o.zone_from_gps && o.utc_offset_for != nullptr && f.location) {
        if (auto zone = zone_from_location(f.location->lat, f.location->lon)) {
            int m = 0;
            if (o.utc_offset_for(utc, zone->c_str(), &m, o.utc_offset_ctx)) {
                off = m;
                t = from_epoch(utc, off);
                f.time_zone = *zone;
                f.zone_source = "gps";
                return;
            }
        }
    }
    date_in_default_zone(o, utc, f, t, off);
}

// The instant of a wall clock with a known offset.
int64_t instant_of(const LocalDateTime& t, int offset_minutes) {
    return to_epoch_utc(t) - static_cast<int64_t>(offset_minutes) * 60;
}

// A still's metadata into the asset's facts: its own date and offset (the
// instant only when the offset is known), its position and its complaints.
void apply_image_facts(const ImageFacts& img, AssetFacts& f) {
    f.metadata_errors = img.errors;
    f.location = img.location;
    f.motion_photo = img.motion_photo;
    if (img.captured) {
        f.captured = *img.captured;
        f.utc_offset_minutes = img.offset_minutes;
        f.date_source = img.date_source;
        if (img.offset_minutes) {
            f.utc_epoch = instant_of(f.captured, *img.offset_minutes);
            f.zone_source = "file";
        }
    }
}

bool is_bmff_video(const std::string& format) {
    return format == "mp4" || format == "mov" || format == "m4v" || format == "3gp";
}

bool same_file_state(const struct stat& a, const struct stat& b) {
    return a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
           a.st_ino == b.st_ino;
}

// The bytes kept in memory for the metadata parsers.
struct Head {
    std::unique_ptr<uint8_t[]> bytes;
    size_t len = 0;
    const uint8_t* data() const { return bytes.get(); }
};

MediaType sniff_or_reject(const Head& h, std::string_view file_name) {
    auto t = sniff_media_type(h.data(), h.len, file_name);
    if (!t) throw RejectError(RejectReason::NotMedia, "not a photo or video (unrecognised content)");
    return *t;
}

// The one read of the file: every byte goes through the hash; the first
// head bytes stay for the metadata parsers. Sets size, type and hash.
Head read_and_hash(int fd, std::string_view file_name, const ReadOptions& opts, const struct stat& before, AssetFacts& f) {
    f.size_bytes = static_cast<uint64_t>(before.st_size);
    const size_t head_cap = static_cast<size_t>(std::min<uint64_t>(f.size_bytes, opts.head_bytes));
    Head h;
    h.bytes.reset(new uint8_t[head_cap]);
    std::unique_ptr<uint8_t[]> chunk(new uint8_t[opts.chunk_bytes]);
    uint64_t total = 0;
    Sha256 hash;
    bool type_checked = false;
    for (;;) {
        if (opts.cancelled != nullptr && opts.cancelled(opts.cancel_ctx)) throw Cancelled();
        uint8_t* dst = h.len < head_cap ? h.bytes.get() + h.len : chunk.get();
        size_t want = h.len < head_cap ? std::min(head_cap - h.len, opts.chunk_bytes) : opts.chunk_bytes;
        // pread from our own offset: the result never depends on where the
        // descriptor happened to be positioned.
        ssize_t n = pread(fd, dst, want, static_cast<off_t>(total));
        if (n < 0) {
            if (errno == EINTR) continue;
            throw IoError("reading " + std::string(file_name), errno);
        }
        if (n == 0) break;
        hash.update(dst, static_cast<size_t>(n));
        if (dst != chunk.get()) h.len += static_cast<size_t>(n);
        total += static_cast<uint64_t>(n);
        if (!type_checked && (h.len >= std::min<size_t>(head_cap, 64) || h.len == head_cap)) {
            // Not media: stop reading now rather than hash a 4 GB archive.
            f.type = sniff_or_reject(h, file_name);
            type_checked = true;
        }
    }
    struct stat after;
    if (fstat(fd, &after) != 0) throw IoError("fstat", errno);
    if (total != f.size_bytes || !same_file_state(before, after))
        throw RejectError(RejectReason::Unstable, "the file changed while it was being read");
    if (!type_checked) f.type = sniff_or_reject(h, file_name);
    f.sha256 = hash.hex_digest();
    return h;
}

// Where Exiv2 found neither date nor place, the format's own fallbacks.
void image_fallbacks(int fd, const Head& h, const AssetFacts& f, int64_t now, ImageFacts& img) {
    const uint8_t* head = h.data();
    const size_t head_len = h.len;
    if (!img.captured && !img.location && head_len < f.size_bytes) {
        // Metadata beyond the head (large TIFF/RAW): let Exiv2 seek in the
        // file itself, through our descriptor (never the path: no races).
        ImageFacts again = read_image_facts_path("/proc/self/fd/" + std::to_string(fd), now);
        again.motion_photo = again.motion_photo || img.motion_photo;
        img = std::move(again);
    }
    if (!img.captured && !img.location && (f.type.format == "heic" || f.type.format == "avif")) {
        // Exiv2 0.27 misses the Exif item of some HEIF files (e.g. written by
        // ImageMagick, tagged by exiftool): read the item ourselves.
        HeifMetadata m = head_len == f.size_bytes ? read_heif_metadata(MemoryRandomAccess(head, head_len))
                                                  : read_heif_metadata(FdRandomAccess(fd));
        if (!m.exif.empty() || !m.xmp.empty()) {
            ImageFacts own = read_exif_block(m.exif, m.xmp, now);
            // Exiv2's complaints about the file are moot once the fallback has read it.
            if (own.captured || own.location) img = std::move(own);
            else img.errors.insert(img.errors.end(), own.errors.begin(), own.errors.end());
        }
    }
    if (!img.captured && !img.location && f.type.format == "cr3") {
        // Exiv2 reads CR3 through its BMFF support; when it finds nothing,
        // the CMT boxes are read by our own box walker.
        Cr3Metadata m = head_len == f.size_bytes ? read_cr3_metadata(MemoryRandomAccess(head, head_len))
                                                 : read_cr3_metadata(FdRandomAccess(fd));
        if (!m.ifd0.empty() || !m.exif.empty() || !m.gps.empty()) {
            ImageFacts own = read_cr3_blocks(m.ifd0, m.exif, m.gps, now);
            if (own.captured || own.location) img = std::move(own);
        }
    }
    if (!img.captured && !img.location && f.type.format == "png") {
        std::string exif, xmp;
        find_png_metadata(head, head_len, exif, xmp);
        if (!exif.empty() || !xmp.empty()) {
            ImageFacts own = read_exif_block(exif, xmp, now);
            if (own.captured || own.location) img = std::move(own);
        }
    }
    if (!img.captured && !img.location && f.type.format == "gif") {
        // GIF keeps XMP in an application extension that Exiv2 0.27 skips.
        std::string xmp = find_xmp_packet(head, head_len);
        if (!xmp.empty()) img = read_exif_block("", xmp, now);
    }
}

// A still's metadata, from the bytes already in memory where possible.
void image_metadata(int fd, const Head& h, int64_t now, AssetFacts& f) {
    if (f.type.format == "x3f") {
        // Sigma X3F: Exiv2 0.27 has no reader. Newer cameras embed a JPEG
        // preview with EXIF; otherwise the file name, then the mtime.
        std::string exif = find_embedded_exif(h.data(), h.len);
        if (!exif.empty()) apply_image_facts(read_exif_block(exif, "", now), f);
        return;
    }
    ImageFacts img = read_image_facts(h.data(), h.len, now);
    image_fallbacks(fd, h, f, now, img);
    if (f.type.format == "jpeg" && !img.motion_photo) img.motion_photo = has_motion_photo_marker(h.data(), h.len);
    apply_image_facts(img, f);
}

VideoFacts read_container(int fd, const Head& h, const AssetFacts& f) {
    VideoFacts v;
    MemoryRandomAccess in_memory(h.data(), h.len);
    FdRandomAccess in_file(fd);
    const RandomAccess& in = h.len == f.size_bytes ? static_cast<const RandomAccess&>(in_memory) : in_file;
    const std::string& fmt = f.type.format;
    if (is_bmff_video(fmt)) v = read_video_facts(in);
    else if (fmt == "avi") v = read_avi_facts(in);
    else if (fmt == "mkv" || fmt == "webm") v = read_matroska_facts(in);
    else if (fmt == "wmv" || fmt == "asf") v = read_asf_facts(in);
    else if (fmt == "mts") v = read_mpegts_facts(in);
    return v;
}

// A video's date: local clocks first (the phone's, the camera's, a zoned
// ©day), then the UTC instant in the best zone known.
void video_metadata(int fd, const Head& h, const ReadOptions& opts, int64_t now, AssetFacts& f) {
    VideoFacts v = read_container(fd, h, f);
    f.metadata_errors = v.errors;
    f.location = v.location;
    if (v.apple_local && is_plausible(*v.apple_local, now)) {
        // Local time as the phone saw it, with its offset.
        f.captured = *v.apple_local;
        f.utc_offset_minutes = v.apple_offset_minutes;
        f.date_source = "video_local";
        if (v.apple_offset_minutes) {
            f.utc_epoch = instant_of(f.captured, *v.apple_offset_minutes);
            f.zone_source = "file";
        } else {
            f.utc_epoch = v.creation_utc_epoch;  // the instant still comes from mvhd
        }
    } else if (v.camera_local && is_plausible(*v.camera_local, now)) {
        // The camera's own clock (AVI IDIT or EXIF, AVCHD MDPM): local time.
        f.captured = *v.camera_local;
        f.utc_offset_minutes = v.camera_offset_minutes;
        f.date_source = "video_local";
        if (v.camera_offset_minutes) {
            f.utc_epoch = instant_of(f.captured, *v.camera_offset_minutes);
            f.zone_source = "file";
        }
    } else if (v.day_local && v.day_offset_minutes && *v.day_offset_minutes != 0 && is_plausible(*v.day_local, now)) {
        // ©day with a real zone: local time too. ("Z" means UTC: treated like mvhd below.)
        f.captured = *v.day_local;
        f.utc_offset_minutes = v.day_offset_minutes;
        f.date_source = "video_local";
        f.utc_epoch = instant_of(f.captured, *v.day_offset_minutes);
        f.zone_source = "file";
    } else {
        std::optional<int64_t> utc = v.creation_utc_epoch;
        if (!utc && v.day_local && v.day_offset_minutes) utc = instant_of(*v.day_local, 0);
        if (!utc) return;
        LocalDateTime t;
        int off = 0;
        date_in_best_zone(opts, *utc, f, t, off);
        if (is_plausible(t, now)) {
            f.captured = t;
            f.utc_offset_minutes = off;
            f.date_source = "video_utc";
            f.utc_epoch = utc;
        } else {
            f.time_zone.clear();
            f.zone_source.clear();
        }
    }
}

// No date inside the file: its name, else its mtime in the default zone.
void date_from_outside(std::string_view file_name, const struct stat& st, const ReadOptions& opts, int64_t now,
                       AssetFacts& f) {
    if (auto t = date_from_filename(file_name, now)) {
        f.captured = *t;
        f.date_source = "filename";
        return;
    }
    int64_t mt = static_cast<int64_t>(st.st_mtim.tv_sec);
    int off = 0;
    date_in_default_zone(opts, mt, f, f.captured, off);
    f.utc_offset_minutes = off;
    f.date_source = "mtime";
    f.utc_epoch = mt;
}

}  // namespace

AssetFacts read_asset(int fd, std::string_view file_name, const ReadOptions& opts) {
    const int64_t now = opts.now_epoch ? opts.now_epoch : static_cast<int64_t>(std::time(nullptr));
    struct stat before;
    if (fstat(fd, &before) != 0) throw IoError("fstat", errno);
    if (!S_ISREG(before.st_mode)) throw RejectError(RejectReason::NotRegularFile, "not a regular file");
    if (before.st_size == 0) throw RejectError(RejectReason::Empty, "the file is empty (0 bytes)");
    if (opts.max_bytes > 0 && static_cast<uint64_t>(before.st_size) > opts.max_bytes)
        throw RejectError(RejectReason::TooLarge, std::to_string(before.st_size) + " bytes, more than photofactory.max_file_size (" +
                                                      std::to_string(opts.max_bytes) + " bytes)");
    AssetFacts f;
    const Head head = read_and_hash(fd, file_name, opts, before, f);
    if (f.type.kind == MediaKind::Image) image_metadata(fd, head, now, f);
    else video_metadata(fd, head, opts, now, f);
    if (f.date_source.empty()) date_from_outside(file_name, before, opts, now, f);
    return f;
}

std::string time_zone_label(const AssetFacts& f) {
    if (f.zone_source.empty()) return "";
    if (f.time_zone.empty()) return f.zone_source;
    return f.zone_source + ":" + f.time_zone;
}

}  // namespace pf
