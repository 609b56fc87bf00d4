// One setup of pf::ReadOptions for every read of a user's file from
// PostgreSQL (the librarian's ingest, inspect_file): the capture zone through
// PostgreSQL's zone database, photofactory.max_file_size, and cancellation by
// a pending interrupt.
#pragma once

#include "pg/pg_headers.hpp"

#include "core/asset_reader.hpp"
#include "pg/timezone.hpp"
#include "pg/worker.hpp"

namespace pf::pg {

// What the options are made of, resolved from the settings. May raise
// PostgreSQL errors (pg_tzset allocates): call it outside core code.
struct ReadSettings {
    const pg_tz* zone;
    const char* zone_name;
    unsigned long long max_bytes;
};
ReadSettings current_read_settings();

// The options themselves; plain C++, safe inside core code.
inline pf::ReadOptions read_options(const ReadSettings& s) {
    pf::ReadOptions opts;
    opts.utc_offset_for = utc_offset_minutes_in_zone;
    opts.utc_offset_ctx = const_cast<pg_tz*>(s.zone);
    opts.default_zone_name = s.zone_name;
    opts.max_bytes = s.max_bytes;
    opts.cancelled = core_should_stop;
    return opts;
}

}  // namespace pf::pg
