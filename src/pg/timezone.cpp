#include "pg/timezone.hpp"

#include "pg/gucs.hpp"

namespace pf::pg {

const pg_tz* capture_zone() {
    if (guc_default_timezone != nullptr && guc_default_timezone[0] != '\0') {
        const pg_tz* tz = pg_tzset(guc_default_timezone);
        if (tz != nullptr) return tz;
    }
    return session_timezone;
}

int utc_offset_minutes_in_zone(int64_t utc_epoch, void* ctx) {
    const pg_tz* tz = static_cast<const pg_tz*>(ctx);
    if (tz == nullptr) return 0;
    pg_time_t t = static_cast<pg_time_t>(utc_epoch);
    struct pg_tm* tm = pg_localtime(&t, tz);
    return tm == nullptr ? 0 : static_cast<int>(tm->tm_gmtoff / 60);
}

}  // namespace pf::pg
