#include "core/imaging_runtime.hpp"

#include <malloc.h>
#include <pthread.h>
#include <vips/vips.h>

#include <string>

#include "core/errors.hpp"

namespace pf {
namespace {
bool started = false;
constexpr size_t kKeepFreeBytes = 32u << 20;
}

SignalsBlocked::SignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved_);
}

SignalsBlocked::~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

void imaging_init(const ImagingSettings& s) {
    SignalsBlocked blocked;
    if (!started) {
        // Each thread that mallocs gets its own glibc arena by default (up to
        // 8 per core), and freed arenas are rarely returned: with libvips'
        // pool that alone is tens of MB of RSS per backend. Two suffice.
        mallopt(M_ARENA_MAX, 2);
        if (VIPS_INIT("photofactory") != 0) {
            std::string msg = vips_error_buffer();
            vips_error_clear();
            throw Error("cannot start libvips: " + msg);
        }
        // Only loaders libvips considers safe for untrusted input (no
        // ImageMagick, MATLAB, FITS ... delegates): originals come from phones
        // but are still files from outside.
        vips_block_untrusted_set(TRUE);
        started = true;
    }
    vips_concurrency_set(s.concurrency > 0 ? s.concurrency : 1);
    vips_cache_set_max(s.cache_max_operations);
    vips_cache_set_max_mem(s.cache_max_bytes);
    vips_cache_set_max_files(s.cache_max_files);
}

void imaging_release_memory() {
    // Trimming after every asset handed the heap back to the kernel only for
    // the next asset to fault it in again (page faults and page zeroing, a
    // few per cent of a 12-megapixel JPEG). Free memory up to the working set
    // of ordinary photos is kept for reuse; more (after a huge image) goes back.
    struct mallinfo2 mi = mallinfo2();
    if (mi.fordblks > kKeepFreeBytes) malloc_trim(0);
}

}  // namespace pf
