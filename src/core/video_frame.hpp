// A representative still of a video, decoded with FFmpeg's libraries.
//
// The first frame of a phone video is often black (the sensor is still
// adjusting) or a fade-in, which makes a useless thumbnail. We look at a few
// moments in the first seconds and take the first frame bright enough to show
// something; if none is, the brightest one seen.
#pragma once

#include "core/core_guard.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pf {

struct VideoFrameOptions {
    int max_side = 1440;             // the frame is scaled to fit this box while converting
    int64_t max_pixels = 0;          // coded frame size limit (0: none)
    double min_mean_luma = 24.0;     // 0..255: below this a frame counts as black
    size_t max_decoded_frames = 600; // bound on work for odd files (e.g. a keyframe every minute)
};

struct VideoFrame {
    int width = 0;    // of rgb, before rotation
    int height = 0;
    std::vector<uint8_t> rgb;  // packed RGB24, width * height * 3
    int rotate_cw = 0;   // 0, 90, 180, 270: clockwise rotation the display matrix asks for
    bool hflip = false;  // the display matrix mirrors as well
    int coded_width = 0;
    int coded_height = 0;
    double at_seconds = 0;  // where the chosen frame is
    double mean_luma = 0;
};

// Reads the video through a custom I/O context on fd (pread; no path is given
// to FFmpeg). Throws pf::ThumbnailError (thumbnail_render.hpp) on failure.
VideoFrame decode_representative_frame(int fd, const VideoFrameOptions& opts);

}  // namespace pf
