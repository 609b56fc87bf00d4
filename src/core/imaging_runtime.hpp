// The imaging libraries (libvips, FFmpeg) inside a PostgreSQL process.
//
// libvips runs a pool of worker threads and FFmpeg may start decoder threads.
// Those threads must never take a signal meant for the backend (PostgreSQL's
// handlers touch process state and are not thread-safe), so every call that
// may start a thread runs with all signals blocked: a new thread inherits the
// creating thread's mask. Signals that arrive meanwhile stay pending and are
// delivered to the backend's thread when the mask is restored.
#pragma once

#include "core/core_guard.hpp"

#include <signal.h>

#include <cstddef>
#include <cstdint>

namespace pf {

struct ImagingSettings {
    int concurrency = 1;                 // libvips worker threads per render
    int cache_max_operations = 0;        // libvips operation cache (0: off; thumbnails never repeat)
    size_t cache_max_bytes = 0;          // its memory bound
    int cache_max_files = 0;             // its open-file bound
};

// Blocks every signal in the calling thread for its lifetime.
class SignalsBlocked {
public:
    SignalsBlocked();
    ~SignalsBlocked();
    SignalsBlocked(const SignalsBlocked&) = delete;
    SignalsBlocked& operator=(const SignalsBlocked&) = delete;

private:
    sigset_t saved_;
};

// Starts libvips once (with signals blocked) and applies the settings; later
// calls only re-apply the settings (after a configuration reload). Throws
// pf::Error if libvips cannot start.
void imaging_init(const ImagingSettings& settings);

// Gives freed decoder memory back to the kernel between assets (glibc keeps
// large freed arenas otherwise, which shows up as RSS that never shrinks).
void imaging_release_memory();

}  // namespace pf
