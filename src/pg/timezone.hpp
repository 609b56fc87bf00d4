// Local wall-clock conversion for capture times known only in UTC, using
// PostgreSQL's own time-zone database (so it matches SQL's AT TIME ZONE).
#pragma once

#include "pg/pg_headers.hpp"

namespace pf::pg {

// photofactory.default_timezone, or the session's TimeZone when empty. Resolve
// it BEFORE entering core code: pg_tzset may allocate and so may ereport.
const pg_tz* capture_zone();

// Callback for pf::ReadOptions::utc_offset_for; ctx is the const pg_tz*.
// Pure computation: safe to call from inside core code.
int utc_offset_minutes_in_zone(int64_t utc_epoch, void* ctx);

}  // namespace pf::pg
