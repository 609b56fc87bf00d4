// Bridges the core's process-wide set-up and its log messages into PostgreSQL.
#pragma once

namespace pf::pg {

// Points the core's log sink at a bounded in-memory buffer (see flush_core_log).
void install_core_log_sink();

// Initialises Exiv2 & co. once per process (idempotent).
void ensure_core_initialized();

// Emits the messages the core logged during the last core call. Exiv2 logs from
// deep inside C++ frames, where an ereport must not run; they wait here.
void flush_core_log();

}  // namespace pf::pg
