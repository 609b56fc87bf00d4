#include "core/lanczos_resize.hpp"

extern "C" {
#include <libavutil/log.h>
#include <libavutil/mem.h>
#include <libavutil/pixfmt.h>
#include <libswscale/swscale.h>
}

#include <cstddef>
#include <memory>
#include <new>

#include "core/errors.hpp"

namespace pf {
namespace {

struct SwsCloser {
    void operator()(SwsContext* s) const { sws_freeContext(s); }
};
using Sws = std::unique_ptr<SwsContext, SwsCloser>;

struct AvFree {
    void operator()(uint8_t* p) const { av_free(p); }
};

// Full-resolution chroma in and out, exact rounding: what keeps RGB exact.
constexpr int kFlags = SWS_LANCZOS | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP;

Sws context(int w, int h, AVPixelFormat in, int ow, int oh, AVPixelFormat out) {
    Sws s(sws_getContext(w, h, in, ow, oh, out, kFlags, nullptr, nullptr, nullptr));
    if (!s) throw Error("libswscale cannot resize " + std::to_string(w) + "x" + std::to_string(h) + " to " +
                        std::to_string(ow) + "x" + std::to_string(oh));
    return s;
}

void scale(SwsContext* s, const uint8_t* const src[4], const int src_stride[4], int h, uint8_t* const dst[4],
           const int dst_stride[4]) {
    if (sws_scale(s, src, src_stride, 0, h, dst, dst_stride) <= 0) throw Error("libswscale failed to resize");
}

}  // namespace

MallocBytes lanczos_resize(const uint8_t* src, int w, int h, int bands, int ow, int oh) {
    if (bands != 1 && bands != 3) throw Error("lanczos_resize takes 1 or 3 bands");
    // Warnings (e.g. unaligned rows) would go to the server's stderr.
    av_log_set_level(AV_LOG_QUIET);
    const size_t out_row = static_cast<size_t>(ow) * static_cast<size_t>(bands);
    MallocBytes out(static_cast<uint8_t*>(std::malloc(out_row * static_cast<size_t>(oh))));
    if (!out) throw std::bad_alloc();
    const uint8_t* in[4] = {src, nullptr, nullptr, nullptr};
    const int in_stride[4] = {w * bands, 0, 0, 0};
    uint8_t* dst[4] = {out.get(), nullptr, nullptr, nullptr};
    const int dst_stride[4] = {static_cast<int>(out_row), 0, 0, 0};
    if (bands == 1) {
        Sws s = context(w, h, AV_PIX_FMT_GRAY8, ow, oh, AV_PIX_FMT_GRAY8);
        scale(s.get(), in, in_stride, h, dst, dst_stride);
        return out;
    }
    // RGB24 -> GBRP resized, then GBRP -> RGB24 at the same size (a plain
    // interleave). Plane rows aligned for the SIMD paths.
    const int plane_stride = (ow + 63) & ~63;
    const size_t plane = static_cast<size_t>(plane_stride) * static_cast<size_t>(oh);
    std::unique_ptr<uint8_t, AvFree> planes(static_cast<uint8_t*>(av_malloc(plane * 3)));
    if (!planes) throw std::bad_alloc();
    uint8_t* gbr[4] = {planes.get(), planes.get() + plane, planes.get() + 2 * plane, nullptr};
    const int gbr_stride[4] = {plane_stride, plane_stride, plane_stride, 0};
    Sws down = context(w, h, AV_PIX_FMT_RGB24, ow, oh, AV_PIX_FMT_GBRP);
    scale(down.get(), in, in_stride, h, gbr, gbr_stride);
    Sws pack = context(ow, oh, AV_PIX_FMT_GBRP, ow, oh, AV_PIX_FMT_RGB24);
    const uint8_t* gbr_in[4] = {gbr[0], gbr[1], gbr[2], nullptr};
    scale(pack.get(), gbr_in, gbr_stride, oh, dst, dst_stride);
    return out;
}

}  // namespace pf
