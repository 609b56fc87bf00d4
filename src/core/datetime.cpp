#include "core/datetime.hpp"

#include <cstdio>

#include "core/digits.hpp"

namespace pf {
namespace {

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int& y, int& m, int& d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    y = static_cast<int>(yy + (m <= 2));
}

constexpr auto digits = parse_fixed_digits;

bool valid_fields(const LocalDateTime& t) {
    return t.month >= 1 && t.month <= 12 && t.day >= 1 && t.day <= days_in_month(t.year, t.month) && t.hour >= 0 &&
           t.hour <= 23 && t.minute >= 0 && t.minute <= 59 && t.second >= 0 && t.second <= 60;
}

}  // namespace

bool operator==(const LocalDateTime& a, const LocalDateTime& b) {
    return a.year == b.year && a.month == b.month && a.day == b.day && a.hour == b.hour && a.minute == b.minute &&
           a.second == b.second && a.nanosecond == b.nanosecond;
}

bool is_plausible(const LocalDateTime& t, int64_t now_epoch) {
    if (t.year < 1900 || !valid_fields(t)) return false;
    return to_epoch_utc(t) <= now_epoch + 86400 + 14 * 3600;  // a day of slack, plus the furthest zone
}

std::optional<LocalDateTime> parse_exif_datetime(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    LocalDateTime t;
    if (!digits(s, 0, 4, t.year) || s.size() < 10) return std::nullopt;
    char sep = s[4];
    if ((sep != ':' && sep != '-' && sep != '/' && sep != '.') || s[7] != sep) return std::nullopt;
    if (!digits(s, 5, 2, t.month) || !digits(s, 8, 2, t.day)) return std::nullopt;
    if (s.size() >= 19 && (s[10] == ' ' || s[10] == 'T') && s[13] == ':' && s[16] == ':') {
        if (!digits(s, 11, 2, t.hour) || !digits(s, 14, 2, t.minute) || !digits(s, 17, 2, t.second))
            return std::nullopt;
        if (s.size() > 20 && (s[19] == '.' || s[19] == ',')) {
            int scale = 100000000;
            for (size_t i = 20; i < s.size() && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
                if (scale > 0) t.nanosecond += (s[i] - '0') * scale;
        }
    } else if (s.size() > 10 && s[10] != ' ' && s[10] != 'T' && s[10] != 'Z' && s[10] != '+' && s[10] != '-') {
        return std::nullopt;
    }
    if (t.year == 0 || !valid_fields(t)) return std::nullopt;
    return t;
}

std::optional<int> parse_utc_offset(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.remove_suffix(1);
    if (s == "Z" || s == "z") return 0;
    if (s.size() < 3 || (s[0] != '+' && s[0] != '-')) return std::nullopt;
    int h = 0, m = 0;
    if (!digits(s, 1, 2, h)) return std::nullopt;
    if (s.size() == 6 && s[3] == ':') {
        if (!digits(s, 4, 2, m)) return std::nullopt;
    } else if (s.size() == 5) {
        if (!digits(s, 3, 2, m)) return std::nullopt;
    } else if (s.size() != 3) {
        return std::nullopt;
    }
    if (h > 15 || m > 59) return std::nullopt;
    int total = h * 60 + m;
    return s[0] == '-' ? -total : total;
}

std::string format_sql_timestamp(const LocalDateTime& t) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", t.year, t.month, t.day, t.hour, t.minute,
                  t.second);
    std::string out(buf);
    if (t.nanosecond > 0) {
        std::snprintf(buf, sizeof buf, ".%06d", t.nanosecond / 1000);
        std::string frac(buf);
        while (frac.size() > 2 && frac.back() == '0') frac.pop_back();
        if (frac != ".0" && frac != ".") out += frac;
    }
    return out;
}

LocalDateTime from_epoch(int64_t epoch_seconds, int offset_minutes) {
    int64_t local = epoch_seconds + static_cast<int64_t>(offset_minutes) * 60;
    int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int64_t secs = local - days * 86400;
    LocalDateTime t;
    civil_from_days(days, t.year, t.month, t.day);
    t.hour = static_cast<int>(secs / 3600);
    t.minute = static_cast<int>(secs % 3600 / 60);
    t.second = static_cast<int>(secs % 60);
    return t;
}

int64_t to_epoch_utc(const LocalDateTime& t) {
    return days_from_civil(t.year, static_cast<unsigned>(t.month), static_cast<unsigned>(t.day)) * 86400 +
           t.hour * 3600 + t.minute * 60 + t.second;
}

}  // namespace pf
