#include "core/asset_reader.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <memory>

#include "core/bmff_reader.hpp"
#include "core/errors.hpp"
#include "core/exif_reader.hpp"
#include "core/filename_date.hpp"
#include "core/sha256.hpp"

namespace pf {
namespace {

int offset_at(const ReadOptions& o, int64_t utc) {
    return o.utc_offset_for ? o.utc_offset_for(utc, o.utc_offset_ctx) : 0;
}

bool same_file_state(const struct stat& a, const struct stat& b) {
    return a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
           a.st_ino == b.st_ino;
}

}  // namespace

AssetFacts read_asset(int fd, std::string_view file_name, const ReadOptions& opts) {
    const int64_t now = opts.now_epoch ? opts.now_epoch : static_cast<int64_t>(std::time(nullptr));
    struct stat before;
    if (fstat(fd, &before) != 0) throw IoError("fstat", errno);
    if (!S_ISREG(before.st_mode)) throw RejectError(RejectReason::NotRegularFile, "not a regular file");
    if (before.st_size == 0) throw RejectError(RejectReason::Empty, "the file is empty (0 bytes)");

    AssetFacts f;
    f.size_bytes = static_cast<uint64_t>(before.st_size);
    const size_t head_cap = static_cast<size_t>(std::min<uint64_t>(f.size_bytes, opts.head_bytes));
    std::unique_ptr<uint8_t[]> head(new uint8_t[head_cap]);
    std::unique_ptr<uint8_t[]> chunk(new uint8_t[opts.chunk_bytes]);
    size_t head_len = 0;
    uint64_t total = 0;
    Sha256 hash;
    bool type_checked = false;

    // The one read of the file: every byte goes through the hash; the first
    // head_cap bytes stay for the metadata parsers.
    for (;;) {
        uint8_t* dst = head_len < head_cap ? head.get() + head_len : chunk.get();
        size_t want = head_len < head_cap ? std::min(head_cap - head_len, opts.chunk_bytes) : opts.chunk_bytes;
        // pread from our own offset: the result never depends on where the
        // descriptor happened to be positioned.
        ssize_t n = pread(fd, dst, want, static_cast<off_t>(total));
        if (n < 0) {
            if (errno == EINTR) continue;
            throw IoError("reading " + std::string(file_name), errno);
        }
        if (n == 0) break;
        hash.update(dst, static_cast<size_t>(n));
        if (dst != chunk.get()) head_len += static_cast<size_t>(n);
        total += static_cast<uint64_t>(n);
        if (!type_checked && (head_len >= std::min<size_t>(head_cap, 64) || head_len == head_cap)) {
            // Not media: stop reading now rather than hash a 4 GB archive.
            auto t = sniff_media_type(head.get(), head_len, file_name);
            if (!t) throw RejectError(RejectReason::NotMedia, "not a photo or video (unrecognised content)");
            f.type = *t;
            type_checked = true;
        }
    }
    struct stat after;
    if (fstat(fd, &after) != 0) throw IoError("fstat", errno);
    if (total != f.size_bytes || !same_file_state(before, after))
        throw RejectError(RejectReason::Unstable, "the file changed while it was being read");
    if (!type_checked) {
        auto t = sniff_media_type(head.get(), head_len, file_name);
        if (!t) throw RejectError(RejectReason::NotMedia, "not a photo or video (unrecognised content)");
        f.type = *t;
    }
    f.sha256 = hash.hex_digest();
    chunk.reset();

    // Metadata, from the bytes already in memory where possible.
    if (f.type.kind == MediaKind::Image) {
        ImageFacts img = read_image_facts(head.get(), head_len, now);
        if (!img.captured && !img.location && head_len < f.size_bytes) {
            // Metadata beyond the head (large TIFF/RAW): let Exiv2 seek in the
            // file itself, through our descriptor (never the path: no races).
            img = read_image_facts_path("/proc/self/fd/" + std::to_string(fd), now);
        }
        f.metadata_errors = img.errors;
        f.location = img.location;
        if (img.captured) {
            f.captured = *img.captured;
            f.utc_offset_minutes = img.offset_minutes;
            f.date_source = img.date_source;
        }
    } else {
        VideoFacts v;
        if (f.type.format == "mp4" || f.type.format == "mov" || f.type.format == "m4v" || f.type.format == "3gp") {
            if (head_len == f.size_bytes)
                v = read_video_facts(MemoryRandomAccess(head.get(), head_len));
            else
                v = read_video_facts(FdRandomAccess(fd));
        }
        f.metadata_errors = v.errors;
        f.location = v.location;
        if (v.apple_local && is_plausible(*v.apple_local, now)) {
            f.captured = *v.apple_local;
            f.utc_offset_minutes = v.apple_offset_minutes;
            f.date_source = "video_local";
        } else if (v.creation_utc_epoch) {
            int off = offset_at(opts, *v.creation_utc_epoch);
            LocalDateTime t = from_epoch(*v.creation_utc_epoch, off);
            if (is_plausible(t, now)) {
                f.captured = t;
                f.utc_offset_minutes = off;
                f.date_source = "video_utc";
            }
        }
    }
    if (f.date_source.empty()) {
        if (auto t = date_from_filename(file_name, now)) {
            f.captured = *t;
            f.date_source = "filename";
        } else {
            int64_t mt = static_cast<int64_t>(before.st_mtim.tv_sec);
            int off = offset_at(opts, mt);
            f.captured = from_epoch(mt, off);
            f.utc_offset_minutes = off;
            f.date_source = "mtime";
        }
    }
    return f;
}

}  // namespace pf
