#include "core/thumbnail_render.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <vips/vips.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/imaging_runtime.hpp"
#include "core/jpeg_scaled_decode.hpp"
#include "core/lanczos_resize.hpp"
#include "core/media_type.hpp"
#include "core/raw_preview.hpp"
#include "core/video_frame.hpp"

namespace pf {

const char* to_string(ThumbFailure f) {
    switch (f) {
        case ThumbFailure::Missing: return "missing";
        case ThumbFailure::Unsupported: return "unsupported";
        case ThumbFailure::Corrupt: return "corrupt";
        case ThumbFailure::TooLarge: return "too large";
        case ThumbFailure::Io: return "i/o error";
    }
    return "error";
}

namespace {

// Owns one GObject reference (VipsImage, VipsSource).
template <typename T>
class Ref {
public:
    explicit Ref(T* p = nullptr) : p_(p) {}
    ~Ref() { reset(); }
    Ref(const Ref&) = delete;
    Ref& operator=(const Ref&) = delete;
    Ref(Ref&& o) noexcept : p_(o.release()) {}
    Ref& operator=(Ref&& o) noexcept {
        reset(o.release());
        return *this;
    }
    T* get() const { return p_; }
    T** out() {
        reset();
        return &p_;
    }
    T* release() {
        T* p = p_;
        p_ = nullptr;
        return p;
    }
    void reset(T* p = nullptr) {
        if (p_ != nullptr) g_object_unref(p_);
        p_ = p;
    }

private:
    T* p_;
};

// libvips reports errors through a global buffer: take its text (last line
// is the most specific) and clear it for the next asset.
std::string vips_message() {
    std::string all = vips_error_buffer();
    vips_error_clear();
    while (!all.empty() && all.back() == '\n') all.pop_back();
    size_t nl = all.rfind('\n');
    std::string last = nl == std::string::npos ? all : all.substr(nl + 1);
    return last.empty() ? "libvips error" : last;
}

[[noreturn]] void fail(ThumbFailure f, const std::string& what) {
    throw ThumbnailError(f, what + ": " + vips_message());
}

// Loaders we accept (libvips' own names). Everything else (SVG, PDF, FITS,
// ImageMagick delegates ...) is refused even if libvips could read it.
bool allowed_loader(const char* name) {
    static const char* const ok[] = {"VipsForeignLoadJpegSource", "VipsForeignLoadPngSource",
                                     "VipsForeignLoadWebpSource", "VipsForeignLoadTiffSource",
                                     "VipsForeignLoadNsgifSource", "VipsForeignLoadHeifSource"};
    for (const char* o : ok)
        if (std::strcmp(name, o) == 0) return true;
    return false;
}

bool is_raw(const std::string& format) {
    static const char* const raws[] = {"dng", "cr2", "cr3", "nef", "arw", "orf", "rw2", "raf", "pef", "srw"};
    for (const char* r : raws)
        if (format == r) return true;
    return false;
}

std::string megapixels(int64_t px) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f megapixels", static_cast<double>(px) / 1e6);
    return buf;
}

void check_pixels(int w, int h, const RenderSettings& s, const char* what) {
    int64_t px = static_cast<int64_t>(w) * h;
    if (w <= 0 || h <= 0) throw ThumbnailError(ThumbFailure::Corrupt, std::string(what) + " declares no size");
    if (s.max_pixels > 0 && px > s.max_pixels)
        throw ThumbnailError(ThumbFailure::TooLarge,
                             std::string(what) + " declares " + std::to_string(w) + "x" + std::to_string(h) + " (" +
                                 megapixels(px) + "), over the limit of " + megapixels(s.max_pixels) +
                                 " (photofactory.thumbnail_max_megapixels); not decoded");
}

// Decoders that hold the whole image in memory whatever the output size:
// libheif, interlaced PNG (Adam7), progressive JPEG (libjpeg keeps every DCT
// coefficient: 2 bytes per sample), GIF frames. Others stream in strips.
size_t whole_image_bytes(VipsImage* header, const char* loader) {
    const size_t px = static_cast<size_t>(vips_image_get_width(header)) * vips_image_get_height(header);
    const size_t bands = static_cast<size_t>(std::max(1, vips_image_get_bands(header)));
    const size_t sample = vips_format_sizeof(vips_image_get_format(header));
    int interlaced = 0;
    if (vips_image_get_typeof(header, "interlaced")) (void)vips_image_get_int(header, "interlaced", &interlaced);
    if (std::strcmp(loader, "VipsForeignLoadHeifSource") == 0) return px * bands * sample * 3 / 2;  // YCbCr planes + RGB
    if (std::strcmp(loader, "VipsForeignLoadNsgifSource") == 0) return px * 4 * 2;                     // RGBA canvas + frame
    if (interlaced && std::strcmp(loader, "VipsForeignLoadJpegSource") == 0) return px * bands * 2;
    if (interlaced) return px * bands * sample;
    return 0;
}

// 8-bit sRGB (plus alpha if any), whatever came out of the decoder: 16-bit
// PNG/TIFF, greyscale, Lab/CMYK without a profile.
void to_srgb8(Ref<VipsImage>& img) {
    VipsImage* in = img.get();
    if (vips_image_get_interpretation(in) == VIPS_INTERPRETATION_sRGB && vips_image_get_format(in) == VIPS_FORMAT_UCHAR)
        return;
    Ref<VipsImage> t;
    if (vips_colourspace(in, t.out(), VIPS_INTERPRETATION_sRGB, nullptr) != 0)
        fail(ThumbFailure::Unsupported, "converting to sRGB");
    if (vips_image_get_format(t.get()) != VIPS_FORMAT_UCHAR) {
        Ref<VipsImage> c;
        if (vips_cast(t.get(), c.out(), VIPS_FORMAT_UCHAR, nullptr) != 0) fail(ThumbFailure::Unsupported, "casting to 8 bits");
        t.reset(c.release());
    }
    img.reset(t.release());
}

std::string save_jpeg(VipsImage* in, int quality) {
    Ref<VipsImage> flat;
    VipsImage* src = in;
    if (vips_image_hasalpha(in)) {
        // JPEG has no alpha: a transparent logo must not come out black.
        VipsArrayDouble* white = vips_array_double_newv(1, 255.0);
        int rc = vips_flatten(in, flat.out(), "background", white, nullptr);
        vips_area_unref(VIPS_AREA(white));
        if (rc != 0) fail(ThumbFailure::Unsupported, "flattening alpha");
        src = flat.get();
    }
    void* buf = nullptr;
    size_t len = 0;
    if (vips_jpegsave_buffer(src, &buf, &len, "Q", quality, "strip", TRUE, nullptr) != 0)
        fail(ThumbFailure::Corrupt, "encoding the JPEG preview");
    std::string out(static_cast<const char*>(buf), len);
    g_free(buf);
    return out;
}

std::string save_webp(VipsImage* in, int quality) {
    void* buf = nullptr;
    size_t len = 0;
    if (vips_webpsave_buffer(in, &buf, &len, "Q", quality, "strip", TRUE, nullptr) != 0)
        fail(ThumbFailure::Corrupt, "encoding the WebP thumbnail");
    std::string out(static_cast<const char*>(buf), len);
    g_free(buf);
    return out;
}

// Pixels handed to libvips belong to the image wrapping them: freed when it closes.
void free_pixels(VipsImage*, void* pixels) { std::free(pixels); }

// Packed 8-bit rows as a libvips image that owns them.
Ref<VipsImage> wrap_pixels(MallocBytes pixels, int w, int h, int bands) {
    const size_t size = static_cast<size_t>(w) * static_cast<size_t>(h) * static_cast<size_t>(bands);
    Ref<VipsImage> img(vips_image_new_from_memory(pixels.get(), size, w, h, bands, VIPS_FORMAT_UCHAR));
    if (img.get() == nullptr) fail(ThumbFailure::Corrupt, "wrapping decoded pixels");
    g_signal_connect(img.get(), "postclose", G_CALLBACK(free_pixels), pixels.release());
    return img;
}

// Longest side into box, aspect kept, never enlarged (as vips_thumbnail sizes it).
void fit_box(int w, int h, int box, int* ow, int* oh) {
    if (w <= box && h <= box) {
        *ow = w;
        *oh = h;
        return;
    }
    const double f = static_cast<double>(box) / std::max(w, h);
    *ow = std::max(1, static_cast<int>(std::lround(w * f)));
    *oh = std::max(1, static_cast<int>(std::lround(h * f)));
}

// From a (lazy) image already fitted into the preview box: decode it once
// into memory, encode the preview, shrink that for the thumbnail.
void finish(Ref<VipsImage>& fitted, const RenderSettings& s, RenderResult& r) {
    to_srgb8(fitted);
    Ref<VipsImage> mem(vips_image_copy_memory(fitted.get()));
    if (mem.get() == nullptr) fail(ThumbFailure::Corrupt, "decoding");
    fitted.reset();
    r.preview_width = vips_image_get_width(mem.get());
    r.preview_height = vips_image_get_height(mem.get());
    r.bytes.preview = save_jpeg(mem.get(), s.preview_quality);

    int tw, th;
    fit_box(r.preview_width, r.preview_height, s.thumbnail_size, &tw, &th);
    Ref<VipsImage> small;
    if (tw == r.preview_width && th == r.preview_height) {
        small.reset(mem.release());
    } else if (vips_image_get_bands(mem.get()) == 3) {
        // Plain RGB (the preview in memory, packed rows): lanczos-3 by
        // libswscale, 4 ms where vips_thumbnail_image took 17 ms.
        small = wrap_pixels(lanczos_resize(static_cast<const uint8_t*>(VIPS_IMAGE_ADDR(mem.get(), 0, 0)),
                                           r.preview_width, r.preview_height, 3, tw, th),
                            tw, th, 3);
    } else {
        // With alpha: vips_thumbnail_image box-shrinks first, then reduces.
        if (vips_thumbnail_image(mem.get(), small.out(), s.thumbnail_size, "height", s.thumbnail_size, "size",
                                 VIPS_SIZE_DOWN, "no_rotate", TRUE, nullptr) != 0)
            fail(ThumbFailure::Corrupt, "resizing");
    }
    r.thumbnail_width = vips_image_get_width(small.get());
    r.thumbnail_height = vips_image_get_height(small.get());
    r.bytes.thumbnail = save_webp(small.get(), s.thumbnail_quality);
}

// Reads a file forward through a buffer (positioned reads: the descriptor's
// offset is libvips' business).
class ForwardReader {
public:
    explicit ForwardReader(int fd) : fd_(fd), buf_(1 << 18) {}
    bool byte(int* out) {
        if (i_ >= len_ && !refill()) return false;
        *out = buf_[i_++];
        return true;
    }
    void skip(size_t n) {
        size_t in_buf = len_ - i_;
        if (n <= in_buf) {
            i_ += n;
            return;
        }
        base_ += static_cast<off_t>(len_ + (n - in_buf));
        len_ = i_ = 0;
    }
    // Moves just past the next 0xFF byte; false at the end of the file.
    // memchr: entropy-coded data is almost all of a JPEG, and 0xFF is rare in it.
    bool past_next_ff() {
        for (;;) {
            if (i_ < len_) {
                const void* p = std::memchr(&buf_[i_], 0xFF, len_ - i_);
                if (p != nullptr) {
                    i_ = static_cast<size_t>(static_cast<const uint8_t*>(p) - buf_.data()) + 1;
                    return true;
                }
            }
            i_ = len_;
            if (!refill()) return false;
        }
    }

private:
    bool refill() {
        base_ += static_cast<off_t>(len_);
        ssize_t n;
        do n = pread(fd_, buf_.data(), buf_.size(), base_);
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
            len_ = i_ = 0;
            return false;
        }
        len_ = static_cast<size_t>(n);
        i_ = 0;
        return true;
    }
    int fd_;
    std::vector<uint8_t> buf_;
    off_t base_ = 0;  // file offset of buf_[0]
    size_t len_ = 0, i_ = 0;
};

// libjpeg reports a JPEG cut short only as a warning ("Premature end of JPEG
// file") and libvips 8.14 then fills the missing rows with grey, even with
// fail_on=truncated. So we walk the markers ourselves: a whole JPEG reaches
// EOI. Entropy-coded data is scanned for the next marker (0xFF not followed by
// 0x00 or a restart marker); anything after EOI (a Motion Photo's video) is
// not looked at.
bool jpeg_reaches_eoi(int fd) {
    ForwardReader r(fd);
    int a, b;
    if (!r.byte(&a) || !r.byte(&b) || a != 0xFF || b != 0xD8) return false;
    for (;;) {
        if (!r.byte(&a)) return false;
        if (a != 0xFF) continue;  // stray byte between segments: tolerated
        do
            if (!r.byte(&b)) return false;
        while (b == 0xFF);
        if (b == 0xD9) return true;
        if (b == 0x01 || (b >= 0xD0 && b <= 0xD7)) continue;  // no length
        int h, l;
        if (!r.byte(&h) || !r.byte(&l)) return false;
        size_t seg = (static_cast<size_t>(h) << 8 | static_cast<size_t>(l));
        if (seg < 2) return false;
        r.skip(seg - 2);
        if (b != 0xDA) continue;
        // Entropy-coded data up to the next real marker.
        for (;;) {
            if (!r.past_next_ff()) return false;
            if (!r.byte(&b)) return false;
            while (b == 0xFF)
                if (!r.byte(&b)) return false;
            if (b == 0x00 || (b >= 0xD0 && b <= 0xD7)) continue;
            if (b == 0xD9) return true;
            // Another marker (e.g. the next scan of a progressive JPEG): its segment follows.
            if (!r.byte(&h) || !r.byte(&l)) return false;
            seg = (static_cast<size_t>(h) << 8 | static_cast<size_t>(l));
            if (seg < 2) return false;
            r.skip(seg - 2);
            if (b != 0xDA) break;
        }
    }
}

// What the header of a JPEG told libvips that the direct decode needs.
struct JpegFacts {
    int width = 0, height = 0;  // as stored
    int orientation = 1;
    std::string icc;            // embedded profile, empty if none
};

// Decoded pixels held in memory at the scaled size stay small (a few MB for
// a 1440-pixel preview); a preview size configured so large that they would
// not is left to libvips, which streams.
constexpr size_t kMaxScaledBytes = 64u << 20;

// A JPEG through libjpeg-turbo at the smallest M/8 scale still at least 1.25
// times the preview size (jpeg_scaled_decode.hpp), lanczos-resized into the
// preview box by libswscale, then the embedded profile converted to sRGB and
// the EXIF orientation applied by libvips, as vips_thumbnail did. False: not
// a JPEG this path takes (CMYK ...); the caller decodes it through libvips.
bool render_jpeg_scaled(int fd, const JpegFacts& facts, const RenderSettings& s, RenderResult& r) {
    // A quarter more than the preview is decoded, left to the lanczos step: at
    // 3/8 for a 4000-pixel photo the IDCT did nearly all the shrinking and
    // sharp edges came out rougher (text: 35.6 dB PSNR against a full-size
    // lanczos, 40.3 dB at 4/8), at no saving (the same CPU time).
    const int decode_long = s.preview_size + s.preview_size / 4;
    JpegScaled j = decode_jpeg_scaled(fd, decode_long, kMaxScaledBytes, s.max_decode_bytes);
    switch (j.status) {
        case JpegDecodeStatus::Ok: break;
        case JpegDecodeStatus::NotHandled: return false;
        case JpegDecodeStatus::Truncated:
            throw ThumbnailError(ThumbFailure::Corrupt,
                                 "the JPEG is truncated (its data ends before the end-of-image marker)");
        case JpegDecodeStatus::TooLarge:
            throw ThumbnailError(ThumbFailure::TooLarge,
                                 "decoding this JPEG needs more than photofactory.thumbnail_max_decode_memory; not decoded");
        case JpegDecodeStatus::Io: throw ThumbnailError(ThumbFailure::Io, "reading: " + j.reason);
        case JpegDecodeStatus::Corrupt: throw ThumbnailError(ThumbFailure::Corrupt, "decoding the JPEG: " + j.reason);
    }
    // The box is fitted to the stored size (what a full decode would give),
    // not to the scaled one, which libjpeg rounds up.
    int w = j.width, h = j.height;
    fit_box(facts.width, facts.height, s.preview_size, &w, &h);
    w = std::min(w, j.width);
    h = std::min(h, j.height);
    MallocBytes pixels = (w == j.width && h == j.height)
                             ? std::move(j.pixels)
                             : lanczos_resize(j.pixels.get(), j.width, j.height, j.bands, w, h);
    j.pixels.reset();
    Ref<VipsImage> img = wrap_pixels(std::move(pixels), w, h, j.bands);
    // A fresh image no one else holds yet: its metadata may be set in place.
    vips_image_set_int(img.get(), VIPS_META_ORIENTATION, facts.orientation);
    if (!facts.icc.empty()) {
        vips_image_set_blob_copy(img.get(), VIPS_META_ICC_NAME, facts.icc.data(), facts.icc.size());
        Ref<VipsImage> t;
        if (vips_icc_transform(img.get(), t.out(), "srgb", "embedded", TRUE, nullptr) != 0)
            fail(ThumbFailure::Unsupported, "converting the embedded colour profile to sRGB");
        img.reset(t.release());
    }
    if (facts.orientation != 1) {
        Ref<VipsImage> t;
        if (vips_autorot(img.get(), t.out(), nullptr) != 0) fail(ThumbFailure::Corrupt, "rotating");
        img.reset(t.release());
    }
    char label[48];
    std::snprintf(label, sizeof label, "libjpeg-turbo at %d/8", j.scale_eighths);
    r.decoder = label;
    finish(img, s, r);
    return true;
}

void render_still(int fd, const RenderSettings& s, RenderResult& r) {
    Ref<VipsSource> src(vips_source_new_from_descriptor(fd));  // dups fd
    if (src.get() == nullptr) fail(ThumbFailure::Io, "opening the file");
    const char* loader = vips_foreign_find_load_source(src.get());
    if (loader == nullptr) {
        vips_error_clear();
        throw ThumbnailError(ThumbFailure::Unsupported, "no image decoder recognises this file");
    }
    if (!allowed_loader(loader))
        throw ThumbnailError(ThumbFailure::Unsupported, std::string("decoder ") + loader + " is not allowed");
    const bool jpeg = std::strcmp(loader, "VipsForeignLoadJpegSource") == 0;
    bool has_profile = false;
    JpegFacts facts;
    {
        // Header only: no pixel is decoded before the limits are checked.
        Ref<VipsImage> header(vips_image_new_from_source(src.get(), "", "access", VIPS_ACCESS_SEQUENTIAL, nullptr));
        if (header.get() == nullptr) fail(ThumbFailure::Corrupt, "reading the image header");
        r.source_width = vips_image_get_width(header.get());
        r.source_height = vips_image_get_height(header.get());
        check_pixels(r.source_width, r.source_height, s, "the image");
        has_profile = vips_image_get_typeof(header.get(), VIPS_META_ICC_NAME) != 0;
        size_t need = whole_image_bytes(header.get(), loader);
        if (s.max_decode_bytes > 0 && need > s.max_decode_bytes)
            throw ThumbnailError(ThumbFailure::TooLarge,
                                 "decoding this " + std::to_string(r.source_width) + "x" +
                                     std::to_string(r.source_height) + " image (" + loader +
                                     ", whole-image decoder) needs about " + std::to_string(need >> 20) +
                                     " MB, over photofactory.thumbnail_max_decode_memory; not decoded");
        if (jpeg) {
            // libvips has parsed the EXIF orientation and joined the ICC
            // profile's APP2 chunks already: the direct decode reuses them.
            facts.width = r.source_width;
            facts.height = r.source_height;
            facts.orientation = vips_image_get_orientation(header.get());
            const void* icc = nullptr;
            size_t len = 0;
            if (has_profile && vips_image_get_blob(header.get(), VIPS_META_ICC_NAME, &icc, &len) == 0)
                facts.icc.assign(static_cast<const char*>(icc), len);
        }
    }
    if (jpeg && render_jpeg_scaled(fd, facts, s, r)) return;
    r.decoder = loader;
    if (jpeg && !jpeg_reaches_eoi(fd))
        throw ThumbnailError(ThumbFailure::Corrupt, "the JPEG is truncated (its data ends before the end-of-image marker)");
    // An embedded profile is converted to sRGB. Without one the pixels are
    // taken as sRGB already: asking for the conversion anyway would run an
    // ICC transform over every pixel (it doubled the time per photo).
    Ref<VipsImage> fitted;
    int rc = has_profile
                 ? vips_thumbnail_source(src.get(), fitted.out(), s.preview_size, "height", s.preview_size, "size",
                                         VIPS_SIZE_DOWN, "export_profile", "srgb", "fail_on",
                                         VIPS_FAIL_ON_TRUNCATED, nullptr)
                 : vips_thumbnail_source(src.get(), fitted.out(), s.preview_size, "height", s.preview_size, "size",
                                         VIPS_SIZE_DOWN, "fail_on", VIPS_FAIL_ON_TRUNCATED, nullptr);
    if (rc != 0) fail(ThumbFailure::Corrupt, "decoding");
    finish(fitted, s, r);
}

std::string read_all(int fd, size_t cap) {
    struct stat st;
    if (fstat(fd, &st) != 0) throw ThumbnailError(ThumbFailure::Io, std::string("fstat: ") + std::strerror(errno));
    if (static_cast<uint64_t>(st.st_size) > cap)
        throw ThumbnailError(ThumbFailure::TooLarge, "RAW file of " + std::to_string(st.st_size >> 20) +
                                                         " MB is over the RAW read limit of " +
                                                         std::to_string(cap >> 20) + " MB");
    std::string data(static_cast<size_t>(st.st_size), '\0');
    size_t got = 0;
    while (got < data.size()) {
        ssize_t n = pread(fd, &data[got], data.size() - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw ThumbnailError(ThumbFailure::Io, std::string("reading: ") + std::strerror(errno));
        if (n == 0) break;
        got += static_cast<size_t>(n);
    }
    data.resize(got);
    return data;
}

void render_raw(int fd, const RenderSettings& s, RenderResult& r) {
    std::string data = read_all(fd, s.max_raw_bytes);
    RawPreview p = largest_embedded_preview(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    data.clear();
    data.shrink_to_fit();
    check_pixels(p.width, p.height, s, "the RAW file's embedded preview");
    r.source_width = p.width;
    r.source_height = p.height;
    r.decoder = "raw preview";
    // The preview is upright as the sensor saw it; the RAW's orientation tag
    // says how to turn it (the preview's own tag, if any, is ignored).
    Ref<VipsImage> fitted;
    if (vips_thumbnail_buffer(p.bytes.data(), p.bytes.size(), fitted.out(), s.preview_size, "height",
                              s.preview_size, "size", VIPS_SIZE_DOWN, "no_rotate", TRUE, "export_profile", "srgb",
                              "fail_on", VIPS_FAIL_ON_TRUNCATED, nullptr) != 0)
        fail(ThumbFailure::Corrupt, "decoding the RAW file's embedded preview");
    if (p.orientation != 1) {
        Ref<VipsImage> tagged;
        if (vips_copy(fitted.get(), tagged.out(), nullptr) != 0) fail(ThumbFailure::Corrupt, "copying");
        vips_image_set_int(tagged.get(), VIPS_META_ORIENTATION, p.orientation);
        Ref<VipsImage> upright;
        if (vips_autorot(tagged.get(), upright.out(), nullptr) != 0) fail(ThumbFailure::Corrupt, "rotating");
        fitted.reset(upright.release());
    }
    finish(fitted, s, r);
}

void render_video(int fd, const RenderSettings& s, RenderResult& r) {
    VideoFrameOptions vo;
    vo.max_side = s.preview_size;
    vo.max_pixels = s.max_pixels;
    VideoFrame f = decode_representative_frame(fd, vo);
    r.source_width = f.coded_width;
    r.source_height = f.coded_height;
    char label[64];
    std::snprintf(label, sizeof label, "ffmpeg frame at %.1fs", f.at_seconds);
    r.decoder = label;
    Ref<VipsImage> img(vips_image_new_from_memory_copy(f.rgb.data(), f.rgb.size(), f.width, f.height, 3,
                                                       VIPS_FORMAT_UCHAR));
    if (img.get() == nullptr) fail(ThumbFailure::Corrupt, "wrapping the video frame");
    f.rgb.clear();
    f.rgb.shrink_to_fit();
    {
        Ref<VipsImage> t;
        if (vips_copy(img.get(), t.out(), "interpretation", VIPS_INTERPRETATION_sRGB, nullptr) != 0)
            fail(ThumbFailure::Corrupt, "tagging the video frame");
        img.reset(t.release());
    }
    if (f.hflip) {
        Ref<VipsImage> t;
        if (vips_flip(img.get(), t.out(), VIPS_DIRECTION_HORIZONTAL, nullptr) != 0) fail(ThumbFailure::Corrupt, "flipping");
        img.reset(t.release());
    }
    if (f.rotate_cw != 0) {
        VipsAngle a = f.rotate_cw == 90 ? VIPS_ANGLE_D90 : f.rotate_cw == 180 ? VIPS_ANGLE_D180 : VIPS_ANGLE_D270;
        Ref<VipsImage> t;
        if (vips_rot(img.get(), t.out(), a, nullptr) != 0) fail(ThumbFailure::Corrupt, "rotating the video frame");
        img.reset(t.release());
    }
    finish(img, s, r);
}

}  // namespace

RenderResult render_renditions(int fd, std::string_view file_name, const RenderSettings& s) {
    if (s.thumbnail_size < 1 || s.preview_size < 1) throw Error("rendition sizes must be positive");
    uint8_t head[4096];
    ssize_t n;
    do n = pread(fd, head, sizeof head, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) throw ThumbnailError(ThumbFailure::Io, std::string("reading: ") + std::strerror(errno));
    if (n == 0) throw ThumbnailError(ThumbFailure::Corrupt, "the file is empty");
    auto type = sniff_media_type(head, static_cast<size_t>(n), file_name);
    if (!type) throw ThumbnailError(ThumbFailure::Unsupported, "not a photo or video (unrecognised content)");

    RenderResult r;
    SignalsBlocked blocked;  // libvips and FFmpeg may start threads: they must inherit "all blocked"
    try {
        if (type->kind == MediaKind::Video)
            render_video(fd, s, r);
        else if (is_raw(type->format))
            render_raw(fd, s, r);
        else
            render_still(fd, s, r);
    } catch (...) {
        vips_error_clear();
        throw;
    }
    return r;
}

}  // namespace pf
