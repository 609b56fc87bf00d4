#include "core/country_shapes.hpp"

#include <algorithm>
#include <cmath>

namespace pf {

void CountryShapes::add_ring(int country, int64_t polygon, const double* lonlat, size_t points) {
    if (points < 3) return;
    for (size_t i = 0; i < 2 * points; i++)
        if (!std::isfinite(lonlat[i])) return;
    if (polys_.empty() || polys_.back().id != polygon || polys_.back().country != country) {
        Polygon p;
        p.country = country;
        p.id = polygon;
        p.min_lon = p.min_lat = 1e9;
        p.max_lon = p.max_lat = -1e9;
        polys_.push_back(p);
    }
    Polygon& p = polys_.back();
    p.rings.push_back(Ring{pts_.size() / 2, points});
    pts_.insert(pts_.end(), lonlat, lonlat + 2 * points);
    for (size_t i = 0; i < points; i++) {
        p.min_lon = std::min(p.min_lon, lonlat[2 * i]);
        p.max_lon = std::max(p.max_lon, lonlat[2 * i]);
        p.min_lat = std::min(p.min_lat, lonlat[2 * i + 1]);
        p.max_lat = std::max(p.max_lat, lonlat[2 * i + 1]);
    }
}

int CountryShapes::country_at(double lat, double lon) const {
    if (!std::isfinite(lat) || !std::isfinite(lon)) return -1;
    for (const Polygon& p : polys_) {
        if (lon < p.min_lon || lon > p.max_lon || lat < p.min_lat || lat > p.max_lat) continue;
        // Even-odd over every ring of the polygon: holes (lakes, enclaves) flip it back.
        bool inside = false;
        for (const Ring& r : p.rings) {
            const double* v = &pts_[2 * r.first];
            for (size_t i = 0, j = r.count - 1; i < r.count; j = i++) {
                const double xi = v[2 * i], yi = v[2 * i + 1], xj = v[2 * j], yj = v[2 * j + 1];
                if ((yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi) inside = !inside;
            }
        }
        if (inside) return p.country;
    }
    return -1;
}

}  // namespace pf
