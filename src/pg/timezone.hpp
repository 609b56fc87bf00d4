// Local wall-clock conversion for capture times known only in UTC, using
// PostgreSQL's own time-zone database (so it matches SQL's AT TIME ZONE).
#pragma once

#include "pg/pg_headers.hpp"

namespace pf::pg {

// photofactory.default_timezone, or the session's TimeZone when empty. Resolve
// it BEFORE entering core code: pg_tzset may allocate and so may ereport.
const pg_tz* capture_zone();

// The zone's name ("Europe/Paris"), for pf::ReadOptions::default_zone_name; it
// lives as long as PostgreSQL's zone cache (the process).
const char* capture_zone_name(const pg_tz* zone);

// Callback for pf::ReadOptions::utc_offset_for; ctx is the default zone
// (const pg_tz*, from capture_zone()). zone_name nullptr means that default;
// otherwise it is resolved with pg_tzset under PG_TRY, so an error there (out
// of memory, a zone file PostgreSQL cannot read) becomes `false` and never a
// longjmp through core frames. Safe to call from inside core code.
bool utc_offset_minutes_in_zone(int64_t utc_epoch, const char* zone_name, int* offset_minutes, void* ctx);

}  // namespace pf::pg
