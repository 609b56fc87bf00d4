// A JPEG decoded straight to (nearly) the size it is wanted at, through
// libjpeg-turbo's own API. libjpeg scales its inverse DCT by any M/8, so a
// 4000 x 3000 photo for a 1440-pixel preview is decoded at 3/8 (1500 x 1125).
// libvips 8.14 only shrinks on load by 2, 4 or 8 and, for quality, leaves at
// least a factor of two to its own resize: it decoded that photo at full size.
// The entropy decoding of the whole file, most of the cost, is the same at
// every scale; the IDCT, colour conversion and every later step shrink.
//
// Only what libjpeg can turn into 8-bit RGB or grey unaided is taken (YCbCr,
// RGB, greyscale; baseline or progressive); anything else (CMYK, YCCK) is
// NotHandled and the caller decodes it another way. Pure C++ with libjpeg's C
// API: libjpeg's longjmp error exits stay inside one function of the .cpp
// that holds no object with a destructor.
#pragma once

#include "core/core_guard.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/malloc_bytes.hpp"

namespace pf {

// The M of the M/8 scale to decode at: the smallest whose scaled longest side
// (rounded up, as libjpeg does) is still at least min_long_side. An image no
// longer than min_long_side is decoded whole (8): never enlarged.
int jpeg_scale_eighths(int width, int height, int min_long_side);

// libjpeg's scaled output size: ceil(side * m / 8).
int jpeg_scaled_side(int side, int m);

enum class JpegDecodeStatus {
    Ok,
    NotHandled,  // a colour space, precision or size this path leaves to libvips
    Truncated,   // the data ends before the end-of-image marker
    Corrupt,     // libjpeg gave up on it
    TooLarge,    // libjpeg's own memory would exceed max_library_bytes
    Io,          // reading the file failed
};

struct JpegScaled {
    JpegDecodeStatus status = JpegDecodeStatus::NotHandled;
    std::string reason;                          // why, for anything but Ok
    MallocBytes pixels;                          // width x height x bands, rows packed
    size_t size = 0;                             // bytes in pixels
    int width = 0, height = 0, bands = 0;        // bands: 3 (RGB) or 1 (grey)
    int scale_eighths = 8;                       // the M of M/8 used
    int warnings = 0;                            // libjpeg's warnings on damaged data it went past
};

// Decodes the JPEG in fd (read with pread from offset 0; the descriptor's own
// offset is not used) at the scale jpeg_scale_eighths() picks for
// min_long_side. Leaves it (NotHandled) when the decoded pixels would exceed
// max_output_bytes, before decoding any. max_library_bytes bounds libjpeg's
// own memory (a progressive JPEG's coefficients: over it, TooLarge); 0
// leaves it unbounded. Never throws for
// bad data; throws std::bad_alloc if the decoder's own state cannot be had.
JpegScaled decode_jpeg_scaled(int fd, int min_long_side, size_t max_output_bytes, size_t max_library_bytes);

}  // namespace pf
