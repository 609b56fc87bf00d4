// Lanczos-3 resizing of 8-bit pixels with libswscale (FFmpeg's scaler, SIMD).
// The preview of a JPEG decoded at M/8 is resized here rather than by
// libvips 8.14, whose horizontal reduce has no SIMD path: 1500 x 1125 to
// 1440 x 1080 took it about 30 ms, libswscale about 14 ms, and the two
// results differ by 54 dB PSNR (docs/performance.md, "Thumbnails").
//
// RGB is resized as planar RGB (GBRP), never through YUV: libswscale's RGB to
// RGB scaling would otherwise pass through subsampled chroma.
#pragma once

#include "core/core_guard.hpp"

#include <cstdint>

#include "core/malloc_bytes.hpp"

namespace pf {

// src: height rows of width * bands bytes, packed; bands 1 (grey) or 3 (RGB).
// Returns out_height rows of out_width * bands bytes, packed. Throws
// pf::Error if libswscale refuses the sizes, std::bad_alloc without memory.
MallocBytes lanczos_resize(const uint8_t* src, int width, int height, int bands, int out_width, int out_height);

}  // namespace pf
