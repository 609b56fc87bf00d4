#include "core/version_order.hpp"

namespace pf {

namespace {

// Reads up to 8 dot-separated decimal components; returns how many, or -1 if
// the string does not start with one. *rest_out is where the numbers end.
int parse(const char* s, long (&parts)[8], const char** rest_out) noexcept {
    int n = 0;
    const char* p = s;
    while (n < 8) {
        if (*p < '0' || *p > '9') break;
        long v = 0;
        while (*p >= '0' && *p <= '9') {
            if (v > 100000000L) return -1;  // not a version number anyone writes
            v = v * 10 + (*p - '0');
            p++;
        }
        parts[n++] = v;
        if (*p != '.') break;
        p++;
    }
    *rest_out = p;
    return n == 0 ? -1 : n;
}

}  // namespace

VersionOrder compare_versions(const char* have, const char* need) noexcept {
    if (have == nullptr || need == nullptr) return VersionOrder::Unknown;
    long a[8] = {0}, b[8] = {0};
    const char *ra = nullptr, *rb = nullptr;
    int na = parse(have, a, &ra), nb = parse(need, b, &rb);
    if (na < 0 || nb < 0) return VersionOrder::Unknown;
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        long x = i < na ? a[i] : 0, y = i < nb ? b[i] : 0;
        if (x != y) return x < y ? VersionOrder::Older : VersionOrder::Newer;
    }
    // Same numbers: a suffix on either side leaves the order undecided.
    return (*ra == '\0' && *rb == '\0') ? VersionOrder::Same : VersionOrder::Unknown;
}

}  // namespace pf
