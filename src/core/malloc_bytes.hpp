// Bytes from malloc, freed with free: pixel buffers that C libraries fill
// (libjpeg rows) or take over (libvips frees them when the image closes).
#pragma once

#include "core/core_guard.hpp"

#include <cstdint>
#include <cstdlib>
#include <memory>

namespace pf {

struct FreeDeleter {
    void operator()(uint8_t* p) const { std::free(p); }
};
using MallocBytes = std::unique_ptr<uint8_t, FreeDeleter>;

}  // namespace pf
