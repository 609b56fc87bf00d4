#include "core/place_lookup.hpp"

namespace pf {

std::optional<PlaceAnswer> lookup_place(const PlaceIndex& places, const CountryShapes* shapes, double lat,
                                        double lon, double max_km) {
    auto nearest = places.nearest(lat, lon);
    if (!nearest) return std::nullopt;
    PlaceAnswer answer{*nearest, false};
    if (nearest->distance_km > max_km || shapes == nullptr || shapes->empty() || nearest->country < 0)
        return answer;
    // Far from any border (no other country's place within reach): done, without
    // the polygon test.
    if (!places.nearest_outside(lat, lon, nearest->country, max_km)) return answer;
    const int country = shapes->country_at(lat, lon);
    if (country < 0 || country == nearest->country) return answer;
    if (auto own = places.nearest_in(lat, lon, country, max_km)) {
        answer.hit = *own;
        answer.border_corrected = true;
    }
    return answer;
}

}  // namespace pf
