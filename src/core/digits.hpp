// Fixed-width decimal fields, as dates are spelled in EXIF and file names.
#pragma once

#include "core/core_guard.hpp"

#include <cstddef>
#include <string_view>

namespace pf {

// Parses exactly n decimal digits of s at pos into out; false if any is not a digit.
inline bool parse_fixed_digits(std::string_view s, size_t pos, size_t n, int& out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

}  // namespace pf
