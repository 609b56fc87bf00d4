// Which country a GPS position lies in, from country boundary polygons
// (Natural Earth 1:10m, via the npm package world-atlas): the geocoder's check
// near borders, where the nearest populated place can lie across the border
// (docs/operations.md, "Accuracy and borders").
//
// Polygons are in longitude/latitude degrees and never cross the antimeridian
// (Natural Earth splits them there); each has an outer ring and holes, tested
// with the even-odd rule. Positions on no polygon (open sea, disputed areas
// without a code) have no country.
#pragma once

#include "core/core_guard.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pf {

class CountryShapes {
public:
    // Adds one ring (flat lon,lat pairs) of polygon `polygon` of country
    // `country` (the caller's number). Rings of one polygon are added with the
    // same polygon number, one after the other. Rings with fewer than 3 points
    // or a non-finite coordinate are ignored.
    void add_ring(int country, int64_t polygon, const double* lonlat, size_t points);

    // The country whose polygon contains the position, or -1.
    int country_at(double lat, double lon) const;

    size_t polygons() const { return polys_.size(); }
    bool empty() const { return polys_.empty(); }

private:
    struct Ring {
        size_t first, count;  // into pts_ (pairs)
    };
    struct Polygon {
        int country;
        int64_t id;
        double min_lon, max_lon, min_lat, max_lat;
        std::vector<Ring> rings;
    };
    std::vector<double> pts_;  // lon,lat pairs of every ring
    std::vector<Polygon> polys_;
};

}  // namespace pf
