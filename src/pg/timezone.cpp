#include "pg/timezone.hpp"

#include "pg/gucs.hpp"
#include "pg/pg_guard.hpp"

namespace pf::pg {
namespace {

// pg_tzset, with any PostgreSQL error (out of memory, a zone file it cannot
// read) caught right here: this runs inside core frames.
const pg_tz* tzset_guarded(const char* name) {
    const pg_tz* result = nullptr;
    PgError err;
    if (!pg_guarded([&result, name] { result = pg_tzset(name); }, &err)) return nullptr;
    return result;
}

}  // namespace

const pg_tz* capture_zone() {
    if (guc_default_timezone != nullptr && guc_default_timezone[0] != '\0') {
        const pg_tz* tz = pg_tzset(guc_default_timezone);
        if (tz != nullptr) return tz;
    }
    return session_timezone;
}

const char* capture_zone_name(const pg_tz* zone) {
    if (zone == nullptr) return "UTC";
    const char* name = pg_get_timezone_name(const_cast<pg_tz*>(zone));
    return name != nullptr && name[0] != '\0' ? name : "UTC";
}

bool utc_offset_minutes_in_zone(int64_t utc_epoch, const char* zone_name, int* offset_minutes, void* ctx) {
    const pg_tz* tz = static_cast<const pg_tz*>(ctx);
    if (zone_name != nullptr) {
        tz = tzset_guarded(zone_name);
        if (tz == nullptr) return false;
    }
    if (tz == nullptr) {
        *offset_minutes = 0;
        return true;
    }
    pg_time_t t = static_cast<pg_time_t>(utc_epoch);
    struct pg_tm* tm = pg_localtime(&t, tz);
    if (tm == nullptr) return false;
    *offset_minutes = static_cast<int>(tm->tm_gmtoff / 60);
    return true;
}

}  // namespace pf::pg
