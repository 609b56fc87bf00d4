#include "core/place_index.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace pf {
namespace {

constexpr double kDegToRad = 3.14159265358979323846 / 180.0;

bool valid_position(double lat, double lon) {
    return std::isfinite(lat) && std::isfinite(lon) && lat >= -90.0 && lat <= 90.0 && lon >= -180.0 &&
           lon <= 180.0;
}

void to_unit(double lat, double lon, double out[3]) {
    const double la = lat * kDegToRad, lo = lon * kDegToRad;
    out[0] = std::cos(la) * std::cos(lo);
    out[1] = std::cos(la) * std::sin(lo);
    out[2] = std::sin(la);
}

double chord2(const double a[3], const double b[3]) {
    const double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
    return dx * dx + dy * dy + dz * dz;
}

// Great-circle distance from a chord of the unit sphere: both ends of a chord c
// subtend an angle 2 asin(c / 2).
double chord_to_km(double c2) {
    const double half = std::min(1.0, std::sqrt(c2) / 2.0);
    return 2.0 * std::asin(half) * kEarthRadiusKm;
}

}  // namespace

void PlaceIndex::build(const std::vector<int64_t>& ids, const std::vector<double>& lats,
                       const std::vector<double>& lons) {
    if (ids.size() != lats.size() || ids.size() != lons.size())
        throw std::invalid_argument("PlaceIndex::build: ids, lats and lons differ in length");
    build(ids.data(), lats.data(), lons.data(), ids.size());
}

void PlaceIndex::build(const int64_t* ids, const double* lats, const double* lons, size_t n) {
    nodes_.clear();
    skipped_ = 0;
    nodes_.reserve(n);
    for (size_t i = 0; i < n; i++) {
        if (!valid_position(lats[i], lons[i])) {
            skipped_++;
            continue;
        }
        Node n;
        to_unit(lats[i], lons[i], n.p);
        n.id = ids[i];
        nodes_.push_back(n);
    }
    nodes_.shrink_to_fit();
    axis_.assign(nodes_.size(), 0);
    build_range(0, nodes_.size());
}

// Recursion depth is log2(n) (~18 for the world's places): no stack concern.
void PlaceIndex::build_range(size_t lo, size_t hi) {
    if (hi - lo <= 1) return;
    // Split on the axis of widest spread: places cluster (Europe, coasts), and a
    // fixed x/y/z rotation would cut dense regions badly.
    double mn[3] = {2, 2, 2}, mx[3] = {-2, -2, -2};
    for (size_t i = lo; i < hi; i++)
        for (int k = 0; k < 3; k++) {
            mn[k] = std::min(mn[k], nodes_[i].p[k]);
            mx[k] = std::max(mx[k], nodes_[i].p[k]);
        }
    int axis = 0;
    for (int k = 1; k < 3; k++)
        if (mx[k] - mn[k] > mx[axis] - mn[axis]) axis = k;
    const size_t mid = lo + (hi - lo) / 2;
    std::nth_element(nodes_.begin() + static_cast<std::ptrdiff_t>(lo),
                     nodes_.begin() + static_cast<std::ptrdiff_t>(mid),
                     nodes_.begin() + static_cast<std::ptrdiff_t>(hi),
                     [axis](const Node& a, const Node& b) { return a.p[axis] < b.p[axis]; });
    axis_[mid] = static_cast<uint8_t>(axis);
    build_range(lo, mid);
    build_range(mid + 1, hi);
}

void PlaceIndex::search(size_t lo, size_t hi, const double q[3], size_t& best, double& best_d2) const {
    if (lo >= hi) return;
    const size_t mid = lo + (hi - lo) / 2;
    const Node& n = nodes_[mid];
    const double d2 = chord2(n.p, q);
    // Ties go to the smaller id so that results do not depend on build order.
    if (d2 < best_d2 || (d2 == best_d2 && best < nodes_.size() && n.id < nodes_[best].id)) {
        best_d2 = d2;
        best = mid;
    }
    if (hi - lo == 1) return;
    const int axis = axis_[mid];
    const double diff = q[axis] - n.p[axis];
    const bool left_first = diff < 0;
    if (left_first)
        search(lo, mid, q, best, best_d2);
    else
        search(mid + 1, hi, q, best, best_d2);
    if (diff * diff <= best_d2) {
        if (left_first)
            search(mid + 1, hi, q, best, best_d2);
        else
            search(lo, mid, q, best, best_d2);
    }
}

std::optional<PlaceHit> PlaceIndex::nearest(double lat, double lon) const {
    if (nodes_.empty() || !valid_position(lat, lon)) return std::nullopt;
    double q[3];
    to_unit(lat, lon, q);
    size_t best = nodes_.size();
    double best_d2 = 5.0;  // above the largest chord of the unit sphere squared (4)
    search(0, nodes_.size(), q, best, best_d2);
    if (best == nodes_.size()) return std::nullopt;
    return PlaceHit{nodes_[best].id, chord_to_km(best_d2)};
}

double PlaceIndex::distance_km(double lat1, double lon1, double lat2, double lon2) {
    double a[3], b[3];
    to_unit(lat1, lon1, a);
    to_unit(lat2, lon2, b);
    return chord_to_km(chord2(a, b));
}

}  // namespace pf
