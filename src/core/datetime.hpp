// Wall-clock capture times: parsing the many spellings cameras use, and
// refusing the impossible ones (0000:00:00, 1970 defaults, the future).
#pragma once

#include "core/core_guard.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pf {

struct LocalDateTime {
    int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
    int nanosecond = 0;
};

bool operator==(const LocalDateTime& a, const LocalDateTime& b);

// Valid calendar date and time, year >= 1900, and not more than a day after now.
bool is_plausible(const LocalDateTime& t, int64_t now_epoch);

// "YYYY:MM:DD HH:MM:SS" with ':' or '-' date separators, ' ' or 'T' between,
// optional ".fff" fraction; trailing zone text is ignored (see parse_utc_offset).
std::optional<LocalDateTime> parse_exif_datetime(std::string_view s);

// "+01:00", "-0530", "+09", "Z" -> minutes east of UTC.
std::optional<int> parse_utc_offset(std::string_view s);

// "2023-12-25 12:34:56" or "2023-12-25 12:34:56.123" (trailing zeros trimmed).
std::string format_sql_timestamp(const LocalDateTime& t);

// Wall clock of an instant at a UTC offset.
LocalDateTime from_epoch(int64_t epoch_seconds, int offset_minutes);

// Seconds since the epoch of a wall clock read as UTC (for offsets arithmetic).
int64_t to_epoch_utc(const LocalDateTime& t);

}  // namespace pf
