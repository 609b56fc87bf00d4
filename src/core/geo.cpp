#include "core/geo.hpp"

#include <cmath>

namespace pf {

std::optional<GeoPoint> make_location(double lat, double lon) {
    if (!std::isfinite(lat) || !std::isfinite(lon)) return std::nullopt;
    if (lat < -90.0 || lat > 90.0 || lon < -180.0 || lon > 180.0) return std::nullopt;
    if (lat == 0.0 && lon == 0.0) return std::nullopt;
    // Seven decimals (~1 cm) is far beyond any phone's accuracy; rounding keeps stored values tidy.
    return GeoPoint{std::round(lat * 1e7) / 1e7, std::round(lon * 1e7) / 1e7};
}

}  // namespace pf
