#include "core/filename_date.hpp"

#include <ctime>

#include "core/digits.hpp"

namespace pf {
namespace {

constexpr auto num = parse_fixed_digits;

bool is_digit(std::string_view s, size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }
bool is_sep(char c) { return c == '-' || c == '_' || c == '.' || c == ' '; }

// Date at pos: "YYYYMMDD" or "YYYY-MM-DD"/"YYYY_MM_DD"; returns chars consumed.
size_t read_date(std::string_view s, size_t pos, LocalDateTime& t) {
    if (num(s, pos, 4, t.year) && num(s, pos + 4, 2, t.month) && num(s, pos + 6, 2, t.day)) return 8;
    if (num(s, pos, 4, t.year) && pos + 10 <= s.size() && is_sep(s[pos + 4]) && s[pos + 7] == s[pos + 4] &&
        num(s, pos + 5, 2, t.month) && num(s, pos + 8, 2, t.day))
        return 10;
    return 0;
}

// Time at pos: "HHMMSS[mmm]" or "HH[-._:]MM[-._:]SS"; returns chars consumed.
size_t read_time(std::string_view s, size_t pos, LocalDateTime& t) {
    if (num(s, pos, 2, t.hour) && num(s, pos + 2, 2, t.minute) && num(s, pos + 4, 2, t.second)) {
        int ms;
        if (num(s, pos + 6, 3, ms) && !is_digit(s, pos + 9)) {
            t.nanosecond = ms * 1000000;
            return 9;
        }
        return is_digit(s, pos + 6) ? 0 : 6;
    }
    if (num(s, pos, 2, t.hour) && pos + 8 <= s.size() && is_sep(s[pos + 2]) && s[pos + 5] == s[pos + 2] &&
        num(s, pos + 3, 2, t.minute) && num(s, pos + 6, 2, t.second) && !is_digit(s, pos + 8))
        return 8;
    return 0;
}

}  // namespace

std::optional<LocalDateTime> date_from_filename(std::string_view name, int64_t now_epoch) {
    if (now_epoch == 0) now_epoch = static_cast<int64_t>(std::time(nullptr));
    size_t dot = name.rfind('.');
    std::string_view stem = dot == std::string_view::npos ? name : name.substr(0, dot);
    for (size_t i = 0; i + 8 <= stem.size(); i++) {
        if (i > 0 && is_digit(stem, i - 1)) continue;  // a date starts a digit run
        if (stem[i] != '1' && stem[i] != '2') continue;
        LocalDateTime t;
        size_t dlen = read_date(stem, i, t);
        if (dlen == 0) continue;
        size_t p = i + dlen;
        // Optional separator words between date and time: "_", "-", " at ", "T".
        size_t q = p;
        if (q < stem.size() && (is_sep(stem[q]) || stem[q] == 'T')) q++;
        if (stem.compare(q, 3, "at ") == 0) q += 3;
        LocalDateTime with_time = t;
        size_t tlen = q > p ? read_time(stem, q, with_time) : 0;
        if (tlen > 0 && is_plausible(with_time, now_epoch)) return with_time;
        // Date alone (WhatsApp: IMG-20231225-WA0001): must not run into more digits.
        if (tlen == 0 && !is_digit(stem, p)) {
            t.hour = t.minute = t.second = 0;
            t.nanosecond = 0;
            if (is_plausible(t, now_epoch)) return t;
        }
    }
    return std::nullopt;
}

}  // namespace pf
