#include "pg/core_setup.hpp"

#include <cstdio>

#include "core/exif_reader.hpp"
#include "pg/boundary.hpp"
#include "pg/pg_headers.hpp"

namespace pf::pg {
namespace {

constexpr int kMaxPending = 32;
struct PendingLog {
    pf::LogLevel level;
    char text[256];
};
PendingLog pending[kMaxPending];
int pending_count = 0;
int dropped_count = 0;
bool core_ready = false;

// Runs inside Exiv2's frames: only plain memory writes, nothing that can longjmp.
void buffer_sink(pf::LogLevel level, const char* message) {
    if (pending_count >= kMaxPending) {
        dropped_count++;
        return;
    }
    pending[pending_count].level = level;
    std::snprintf(pending[pending_count].text, sizeof pending[pending_count].text, "%s",
                  message ? message : "");
    pending_count++;
}

}  // namespace

void install_core_log_sink() {
    pf::set_log_sink(buffer_sink);
}

void ensure_core_initialized() {
    if (core_ready) return;
    pf_core_call("initialising the metadata library", [] {
        pf::set_log_sink(buffer_sink);
        pf::init_metadata_library();
    });
    core_ready = true;
    flush_core_log();
}

void flush_core_log() {
    int n = pending_count, dropped = dropped_count;
    pending_count = 0;
    dropped_count = 0;
    for (int i = 0; i < n; i++) {
        // Exiv2 "errors" are about odd files, not about the server: they belong in
        // the log at DEBUG/LOG, never as client-visible WARNINGs.
        int elevel = pending[i].level == pf::LogLevel::Error || pending[i].level == pf::LogLevel::Warning
                         ? LOG
                         : DEBUG1;
        ereport(elevel, (errmsg("photofactory metadata: %s", pending[i].text)));
    }
    if (dropped > 0) ereport(LOG, (errmsg("photofactory metadata: %d further messages suppressed", dropped)));
}

}  // namespace pf::pg
