#include "core/jpeg_scaled_decode.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <new>
#include <type_traits>

// jpeglib.h needs FILE and size_t declared first.
#include <jpeglib.h>
#include <jerror.h>

namespace pf {

int jpeg_scaled_side(int side, int m) {
    return static_cast<int>((static_cast<int64_t>(side) * m + 7) / 8);
}

int jpeg_scale_eighths(int width, int height, int min_long_side) {
    const int longest = std::max(width, height);
    if (longest <= min_long_side) return 8;
    for (int m = 1; m < 8; m++)
        if (jpeg_scaled_side(longest, m) >= min_long_side) return m;
    return 8;
}

namespace {

constexpr size_t kReadChunk = 128 * 1024;

// Everything libjpeg and its callbacks touch. It is crossed by longjmp, so it
// holds plain data only (checked below): no destructor is ever skipped.
struct Decoder {
    jpeg_decompress_struct cinfo;
    struct Err {
        jpeg_error_mgr pub;
        jmp_buf jump;
        char message[JMSG_LENGTH_MAX];
        int warnings;
    } err;
    struct Src {
        jpeg_source_mgr pub;
        int fd;
        off_t pos;        // file offset of the next read
        JOCTET* buf;      // kReadChunk bytes, malloc'd
        bool at_eof;      // the data ran out before libjpeg was done: truncated
        int read_errno;   // pread failed
    } src;
    bool created;
    int min_long_side;
    size_t max_output_bytes;
    long max_library_bytes;
    JpegDecodeStatus outcome;  // set before returning or jumping
    uint8_t* pixels;           // malloc'd here, freed (or handed on) by the caller
    size_t size;
    int width, height, bands, m;
};
static_assert(std::is_trivially_destructible<Decoder>::value, "Decoder is crossed by longjmp");

Decoder* decoder_of(j_common_ptr c) { return static_cast<Decoder*>(c->client_data); }

void on_error_exit(j_common_ptr c) {
    Decoder* d = decoder_of(c);
    (*c->err->format_message)(c, d->err.message);
    if (d->outcome == JpegDecodeStatus::Ok)
        d->outcome = c->err->msg_code == JERR_NO_BACKING_STORE ? JpegDecodeStatus::TooLarge : JpegDecodeStatus::Corrupt;
    std::longjmp(d->err.jump, 1);
}

// Warnings (damaged data libjpeg decodes past, as libvips would) are counted,
// never printed: stderr is the server log.
void on_emit_message(j_common_ptr c, int level) {
    if (level < 0) decoder_of(c)->err.warnings++;
}

void on_output_message(j_common_ptr) {}

void src_init(j_decompress_ptr) {}
void src_term(j_decompress_ptr) {}

boolean src_fill(j_decompress_ptr c) {
    Decoder* d = decoder_of(reinterpret_cast<j_common_ptr>(c));
    ssize_t n;
    do n = pread(d->src.fd, d->src.buf, kReadChunk, d->src.pos);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        d->src.read_errno = errno;
        d->outcome = JpegDecodeStatus::Io;
        ERREXIT(c, JERR_FILE_READ);
    }
    if (n == 0) {
        // libjpeg's own sources would feed a fake end-of-image marker here and
        // let the picture end in grey; a truncated photo is an error for us.
        d->src.at_eof = true;
        d->outcome = JpegDecodeStatus::Truncated;
        ERREXIT(c, JERR_INPUT_EOF);
    }
    d->src.pos += n;
    c->src->next_input_byte = d->src.buf;
    c->src->bytes_in_buffer = static_cast<size_t>(n);
    return TRUE;
}

void src_skip(j_decompress_ptr c, long count) {
    if (count <= 0) return;
    jpeg_source_mgr* s = c->src;
    size_t n = static_cast<size_t>(count);
    if (n <= s->bytes_in_buffer) {
        s->next_input_byte += n;
        s->bytes_in_buffer -= n;
        return;
    }
    decoder_of(reinterpret_cast<j_common_ptr>(c))->src.pos += static_cast<off_t>(n - s->bytes_in_buffer);
    s->bytes_in_buffer = 0;  // the next fill reads from the new position
}

// The only frame with a setjmp. No C++ object lives here: libjpeg's errors
// jump back to it across libjpeg's C frames and our callbacks, and nothing
// thrown ever crosses them. Returns with d->outcome set.
void decode_core(Decoder* d) noexcept {
    if (setjmp(d->err.jump) != 0) return;
    jpeg_create_decompress(&d->cinfo);
    d->created = true;
    if (d->max_library_bytes > 0) d->cinfo.mem->max_memory_to_use = d->max_library_bytes;
    d->cinfo.src = &d->src.pub;
    jpeg_read_header(&d->cinfo, TRUE);

    const J_COLOR_SPACE cs = d->cinfo.jpeg_color_space;
    const int nc = d->cinfo.num_components;
    if (cs == JCS_GRAYSCALE && nc == 1) {
        d->cinfo.out_color_space = JCS_GRAYSCALE;
    } else if ((cs == JCS_YCbCr || cs == JCS_RGB) && nc == 3) {
        d->cinfo.out_color_space = JCS_RGB;
    } else {
        d->outcome = JpegDecodeStatus::NotHandled;
        std::snprintf(d->err.message, sizeof d->err.message, "colour space %d with %d components", static_cast<int>(cs),
                      nc);
        return;
    }
    d->m = jpeg_scale_eighths(static_cast<int>(d->cinfo.image_width), static_cast<int>(d->cinfo.image_height),
                              d->min_long_side);
    d->cinfo.scale_num = static_cast<unsigned>(d->m);
    d->cinfo.scale_denom = 8;
    // Defaults kept (JDCT_ISLOW, fancy upsampling), as libvips decodes: at
    // M/8 < 1 libjpeg-turbo uses its scaled integer IDCTs whatever the method,
    // and scales chroma by IDCT instead of upsampling it, so neither setting
    // changed the time (docs/performance.md, "Thumbnails").
    jpeg_calc_output_dimensions(&d->cinfo);
    d->width = static_cast<int>(d->cinfo.output_width);
    d->height = static_cast<int>(d->cinfo.output_height);
    d->bands = d->cinfo.output_components;
    const size_t stride = static_cast<size_t>(d->width) * static_cast<size_t>(d->bands);
    d->size = stride * static_cast<size_t>(d->height);
    if (d->size == 0 || d->size > d->max_output_bytes) {
        d->outcome = JpegDecodeStatus::NotHandled;
        std::snprintf(d->err.message, sizeof d->err.message, "%dx%d at %d/8 is over the in-memory bound", d->width,
                      d->height, d->m);
        return;
    }
    d->pixels = static_cast<uint8_t*>(std::malloc(d->size));
    if (d->pixels == nullptr) {
        d->outcome = JpegDecodeStatus::NotHandled;
        std::snprintf(d->err.message, sizeof d->err.message, "out of memory");
        return;
    }
    jpeg_start_decompress(&d->cinfo);
    JSAMPROW rows[16];
    while (d->cinfo.output_scanline < d->cinfo.output_height) {
        const JDIMENSION first = d->cinfo.output_scanline;
        const JDIMENSION want = std::min<JDIMENSION>(16, d->cinfo.output_height - first);
        for (JDIMENSION i = 0; i < want; i++) rows[i] = d->pixels + (first + i) * stride;
        jpeg_read_scanlines(&d->cinfo, rows, want);
    }
    // Reads on to the end-of-image marker: a file cut after its last row of
    // blocks is still truncated.
    jpeg_finish_decompress(&d->cinfo);
    d->outcome = JpegDecodeStatus::Ok;
}

}  // namespace

JpegScaled decode_jpeg_scaled(int fd, int min_long_side, size_t max_output_bytes, size_t max_library_bytes) {
    struct Owner {
        Decoder* d = static_cast<Decoder*>(std::calloc(1, sizeof(Decoder)));
        ~Owner() {
            if (d == nullptr) return;
            if (d->created) jpeg_destroy_decompress(&d->cinfo);
            std::free(d->src.buf);
            std::free(d->pixels);
            std::free(d);
        }
    } own;
    Decoder* d = own.d;
    if (d == nullptr) throw std::bad_alloc();
    d->src.buf = static_cast<JOCTET*>(std::malloc(kReadChunk));
    if (d->src.buf == nullptr) throw std::bad_alloc();
    d->cinfo.err = jpeg_std_error(&d->err.pub);
    d->err.pub.error_exit = on_error_exit;
    d->err.pub.emit_message = on_emit_message;
    d->err.pub.output_message = on_output_message;
    d->cinfo.client_data = d;
    d->src.pub.init_source = src_init;
    d->src.pub.fill_input_buffer = src_fill;
    d->src.pub.skip_input_data = src_skip;
    d->src.pub.resync_to_restart = jpeg_resync_to_restart;
    d->src.pub.term_source = src_term;
    d->src.fd = fd;
    d->min_long_side = min_long_side;
    d->max_output_bytes = max_output_bytes;
    d->max_library_bytes = static_cast<long>(std::min<size_t>(max_library_bytes, static_cast<size_t>(LONG_MAX)));
    d->outcome = JpegDecodeStatus::Ok;

    decode_core(d);

    JpegScaled out;
    out.status = d->outcome;
    out.warnings = d->err.warnings;
    out.scale_eighths = d->m;
    switch (out.status) {
        case JpegDecodeStatus::Ok:
            out.pixels.reset(d->pixels);
            d->pixels = nullptr;
            out.size = d->size;
            out.width = d->width;
            out.height = d->height;
            out.bands = d->bands;
            break;
        case JpegDecodeStatus::Io:
            out.reason = std::strerror(d->src.read_errno);
            break;
        case JpegDecodeStatus::Truncated:
            out.reason = "the data ends before the end-of-image marker";
            break;
        default:
            out.reason = d->err.message;
    }
    return out;
}

}  // namespace pf
