#include "core/video_frame.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <memory>
#include <string>

#include "core/thumbnail_error.hpp"

namespace pf {
namespace {

// FFmpeg reads through these callbacks: pread on our fd, so the kernel never
// sees a path from FFmpeg, and no protocol (http, concat, ...) can be opened.
struct FdReader {
    int fd;
    int64_t pos;
    int64_t size;
};

int read_packet(void* opaque, uint8_t* buf, int size) {
    auto* r = static_cast<FdReader*>(opaque);
    for (;;) {
        ssize_t n = pread(r->fd, buf, static_cast<size_t>(size), r->pos);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return AVERROR(errno);
        if (n == 0) return AVERROR_EOF;
        r->pos += n;
        return static_cast<int>(n);
    }
}

int64_t seek(void* opaque, int64_t offset, int whence) {
    auto* r = static_cast<FdReader*>(opaque);
    whence &= ~AVSEEK_FORCE;
    if (whence == AVSEEK_SIZE) return r->size;
    int64_t target = whence == SEEK_SET ? offset : whence == SEEK_CUR ? r->pos + offset : r->size + offset;
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) return AVERROR(EINVAL);
    if (target < 0) return AVERROR(EINVAL);
    r->pos = target;
    return target;
}

std::string av_message(int err) {
    char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(err, buf, sizeof buf);
    return buf;
}

struct FormatCloser {
    void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct IoCloser {
    void operator()(AVIOContext* c) const {
        if (c == nullptr) return;
        av_freep(&c->buffer);
        avio_context_free(&c);
    }
};
struct CodecCloser {
    void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FrameCloser {
    void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketCloser {
    void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsCloser {
    void operator()(SwsContext* s) const { sws_freeContext(s); }
};

// Mean of the luma plane, sampled on a grid (a few thousand points is plenty
// to tell black from a picture). Full-range and limited-range YUV differ by
// 16 at black: the threshold sits well above both.
double mean_luma(const AVFrame* f) {
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(f->format));
    if (d == nullptr || (d->flags & AV_PIX_FMT_FLAG_RGB) || d->comp[0].depth != 8 || d->comp[0].step != 1)
        return -1;  // not 8-bit planar luma: measured after conversion instead
    const int step_y = std::max(1, f->height / 64), step_x = std::max(1, f->width / 64);
    double sum = 0;
    long n = 0;
    for (int y = 0; y < f->height; y += step_y) {
        const uint8_t* row = f->data[0] + static_cast<ptrdiff_t>(y) * f->linesize[0];
        for (int x = 0; x < f->width; x += step_x) {
            sum += row[x];
            n++;
        }
    }
    return n ? sum / n : 0;
}

double mean_luma_rgb(const std::vector<uint8_t>& rgb, int w, int h) {
    const int step_y = std::max(1, h / 64), step_x = std::max(1, w / 64);
    double sum = 0;
    long n = 0;
    for (int y = 0; y < h; y += step_y)
        for (int x = 0; x < w; x += step_x) {
            const uint8_t* p = &rgb[(static_cast<size_t>(y) * w + x) * 3];
            sum += 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            n++;
        }
    return n ? sum / n : 0;
}

void fit_box(int w, int h, int box, int* ow, int* oh) {
    if (w <= box && h <= box) {
        *ow = w;
        *oh = h;
        return;
    }
    double s = static_cast<double>(box) / std::max(w, h);
    *ow = std::max(1, static_cast<int>(std::lround(w * s)));
    *oh = std::max(1, static_cast<int>(std::lround(h * s)));
}

}  // namespace

VideoFrame decode_representative_frame(int fd, const VideoFrameOptions& opts) {
    av_log_set_level(AV_LOG_QUIET);  // FFmpeg would write to the server's stderr
    struct stat st;
    if (fstat(fd, &st) != 0) throw ThumbnailError(ThumbFailure::Io, std::string("fstat: ") + strerror(errno));
    FdReader reader{fd, 0, static_cast<int64_t>(st.st_size)};

    constexpr int kBuf = 64 * 1024;
    auto* buf = static_cast<uint8_t*>(av_malloc(kBuf));
    if (buf == nullptr) throw std::bad_alloc();
    std::unique_ptr<AVIOContext, IoCloser> io(avio_alloc_context(buf, kBuf, 0, &reader, read_packet, nullptr, seek));
    if (!io) {
        av_free(buf);
        throw std::bad_alloc();
    }
    AVFormatContext* raw = avformat_alloc_context();
    if (raw == nullptr) throw std::bad_alloc();
    raw->pb = io.get();
    raw->flags |= AVFMT_FLAG_CUSTOM_IO;
    int rc = avformat_open_input(&raw, nullptr, nullptr, nullptr);
    if (rc < 0) throw ThumbnailError(ThumbFailure::Corrupt, "not a readable video: " + av_message(rc));
    std::unique_ptr<AVFormatContext, FormatCloser> fmt(raw);
    rc = avformat_find_stream_info(fmt.get(), nullptr);
    if (rc < 0) throw ThumbnailError(ThumbFailure::Corrupt, "no stream information: " + av_message(rc));

    const AVCodec* codec = nullptr;
    int si = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (si < 0 || codec == nullptr)
        throw ThumbnailError(si == AVERROR_DECODER_NOT_FOUND ? ThumbFailure::Unsupported : ThumbFailure::Corrupt,
                             si == AVERROR_DECODER_NOT_FOUND ? "no decoder for the video stream" : "no video stream");
    AVStream* stream = fmt->streams[si];
    VideoFrame out;
    out.coded_width = stream->codecpar->width;
    out.coded_height = stream->codecpar->height;
    if (out.coded_width <= 0 || out.coded_height <= 0)
        throw ThumbnailError(ThumbFailure::Corrupt, "video stream has no frame size");
    if (opts.max_pixels > 0 && static_cast<int64_t>(out.coded_width) * out.coded_height > opts.max_pixels)
        throw ThumbnailError(ThumbFailure::TooLarge, "video frames of " + std::to_string(out.coded_width) + "x" +
                                                         std::to_string(out.coded_height) + " exceed the pixel limit");

    if (const uint8_t* m = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, nullptr)) {
        const auto* matrix = reinterpret_cast<const int32_t*>(m);
        double ccw = av_display_rotation_get(matrix);  // counter-clockwise degrees
        if (!std::isnan(ccw)) {
            int cw = static_cast<int>(std::lround(-ccw)) % 360;
            if (cw < 0) cw += 360;
            out.rotate_cw = (cw + 45) / 90 * 90 % 360;
        }
        // A negative determinant means the matrix mirrors too.
        double det = static_cast<double>(matrix[0]) * matrix[4] - static_cast<double>(matrix[1]) * matrix[3];
        out.hflip = det < 0;
    }

    std::unique_ptr<AVCodecContext, CodecCloser> dec(avcodec_alloc_context3(codec));
    if (!dec) throw std::bad_alloc();
    avcodec_parameters_to_context(dec.get(), stream->codecpar);
    // One thread: we decode a handful of frames, and fewer threads means
    // less memory and nothing running beside the backend's own thread.
    dec->thread_count = 1;
    rc = avcodec_open2(dec.get(), codec, nullptr);
    if (rc < 0) throw ThumbnailError(ThumbFailure::Unsupported, "cannot open the decoder: " + av_message(rc));

    std::unique_ptr<AVPacket, PacketCloser> pkt(av_packet_alloc());
    std::unique_ptr<AVFrame, FrameCloser> frame(av_frame_alloc());
    std::unique_ptr<AVFrame, FrameCloser> best(av_frame_alloc());
    if (!pkt || !frame || !best) throw std::bad_alloc();
    double best_luma = -2;
    double best_at = 0;
    bool have_best = false;

    const double tb = av_q2d(stream->time_base);
    double duration = stream->duration != AV_NOPTS_VALUE ? stream->duration * tb
                      : fmt->duration != AV_NOPTS_VALUE   ? fmt->duration / static_cast<double>(AV_TIME_BASE)
                                                          : 0;
    // Moments to try, in order; past the end of a short video only the start is tried.
    const double moments[] = {0.0, 1.0, 2.0, 3.0, 5.0, 8.0};
    size_t decoded = 0;
    std::string last_error;
    for (double t : moments) {
        if (t > 0 && duration > 0 && t >= duration) break;
        if (have_best && best_luma >= opts.min_mean_luma) break;
        if (t > 0) {
            int64_t ts = static_cast<int64_t>(t / tb);
            if (stream->start_time != AV_NOPTS_VALUE) ts += stream->start_time;
            if (av_seek_frame(fmt.get(), si, ts, AVSEEK_FLAG_BACKWARD) < 0) break;
            avcodec_flush_buffers(dec.get());
        }
        bool got = false;
        bool draining = false;
        while (!got && decoded < opts.max_decoded_frames) {
            if (!draining) {
                rc = av_read_frame(fmt.get(), pkt.get());
                if (rc < 0) {
                    draining = true;
                    avcodec_send_packet(dec.get(), nullptr);
                } else if (pkt->stream_index != si) {
                    av_packet_unref(pkt.get());
                    continue;
                } else {
                    rc = avcodec_send_packet(dec.get(), pkt.get());
                    av_packet_unref(pkt.get());
                    if (rc < 0 && rc != AVERROR(EAGAIN)) {
                        last_error = av_message(rc);
                        continue;
                    }
                }
            }
            rc = avcodec_receive_frame(dec.get(), frame.get());
            if (rc == AVERROR(EAGAIN)) continue;
            if (rc < 0) break;  // end of stream
            decoded++;
            int64_t pts = frame->best_effort_timestamp;
            double at = pts == AV_NOPTS_VALUE ? t
                                              : (pts - (stream->start_time != AV_NOPTS_VALUE ? stream->start_time : 0)) * tb;
            // After a seek to the keyframe before t, decode up to t itself.
            if (at + 1e-3 < t) {
                av_frame_unref(frame.get());
                continue;
            }
            got = true;
            double luma = mean_luma(frame.get());
            if (!have_best || luma > best_luma) {
                av_frame_unref(best.get());
                av_frame_move_ref(best.get(), frame.get());
                best_luma = luma;
                best_at = at;
                have_best = true;
            }
            av_frame_unref(frame.get());
        }
        if (!got) break;  // nothing more to find further in
    }
    if (!have_best)
        throw ThumbnailError(ThumbFailure::Corrupt,
                             "no video frame could be decoded" + (last_error.empty() ? "" : ": " + last_error));

    // Convert to RGB, scaled straight into the preview box and corrected for
    // non-square pixels (anamorphic video).
    int dw = best->width, dh = best->height;
    AVRational sar = best->sample_aspect_ratio.num ? best->sample_aspect_ratio : stream->sample_aspect_ratio;
    if (sar.num > 0 && sar.den > 0 && sar.num != sar.den)
        dw = std::max(1, static_cast<int>(std::lround(dw * av_q2d(sar))));
    int ow, oh;
    fit_box(dw, dh, opts.max_side, &ow, &oh);
    std::unique_ptr<SwsContext, SwsCloser> sws(
        sws_getContext(best->width, best->height, static_cast<AVPixelFormat>(best->format), ow, oh,
                       AV_PIX_FMT_RGB24, SWS_AREA, nullptr, nullptr, nullptr));
    if (!sws) throw ThumbnailError(ThumbFailure::Unsupported, "cannot convert this pixel format to RGB");
    out.width = ow;
    out.height = oh;
    out.rgb.resize(static_cast<size_t>(ow) * oh * 3);
    uint8_t* dst[4] = {out.rgb.data(), nullptr, nullptr, nullptr};
    int dst_stride[4] = {ow * 3, 0, 0, 0};
    sws_scale(sws.get(), best->data, best->linesize, 0, best->height, dst, dst_stride);
    out.at_seconds = best_at;
    out.mean_luma = best_luma >= 0 ? best_luma : mean_luma_rgb(out.rgb, ow, oh);
    return out;
}

}  // namespace pf
