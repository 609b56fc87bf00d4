// The geocoder's answer for one position: the nearest place, corrected near
// borders by the country polygons. Only when a place of another country lies
// within max_km is the position's country looked up; if a polygon puts it in a
// country other than the nearest place's, the nearest place of that country
// within max_km wins (a point 1 km inside France west of the Rhine is named
// after a French place, not after Kehl across the river).
#pragma once

#include "core/core_guard.hpp"

#include <optional>

#include "core/country_shapes.hpp"
#include "core/place_index.hpp"

namespace pf {

struct PlaceAnswer {
    PlaceHit hit;           // the place (possibly farther than max_km: then no name)
    bool border_corrected;  // the country polygon overruled the nearest place
};

// Nothing when the index is empty or the position is not a valid WGS84 position.
std::optional<PlaceAnswer> lookup_place(const PlaceIndex& places, const CountryShapes* shapes, double lat,
                                        double lon, double max_km);

}  // namespace pf
