// GPS positions as the ledger stores them, or nothing: absent, (0,0) and
// out-of-range coordinates are far more often a broken receiver than Null Island.
#pragma once

#include "core/core_guard.hpp"

#include <optional>

namespace pf {

struct GeoPoint {
    double lat = 0, lon = 0;
};

std::optional<GeoPoint> make_location(double lat, double lon);

}  // namespace pf
