// An IANA time-zone name for a GPS position, offline: the zone whose reference
// location is nearest (great-circle distance), or the nautical zone Etc/GMT±N
// when every reference location is far away (open sea). Reference locations
// are the principal locations of tzdata's zone1970.tab (one per zone) and of
// zone.tab (one per country and zone: it adds the capitals of countries that
// zone1970.tab folds into a neighbour's zone, e.g. Oslo, Addis Ababa, Niamey).
//
// Limits (docs/formats.md, "Time zones"): this is not a border map. Near a zone
// border the nearest reference city can be across it: harmless where both
// sides keep the same time (Barcelona -> Europe/Andorra, Seattle ->
// America/Vancouver), off by the neighbours' difference elsewhere (northern
// Norway -> Europe/Helsinki). It is used only for videos whose sole time is
// UTC, where the alternative is the configured default zone, and the choice is
// recorded (time_zone = 'gps:<zone>').
#pragma once

#include "core/core_guard.hpp"

#include <optional>
#include <string>

namespace pf {

// Tables: $PF_ZONE_TABLE (one file), else /usr/share/zoneinfo/zone1970.tab and
// zone.tab. They are parsed once per process (thread-safe); a missing or unreadable
// table makes every lookup return nullopt.
std::optional<std::string> zone_from_location(double lat, double lon);

// Beyond this distance from every principal location the nautical zone is used.
constexpr double kZoneMaxDistanceKm = 1500.0;

// For tests: parse a table given as text (same format) and look up in it.
std::optional<std::string> zone_from_location_in(const std::string& table_text, double lat, double lon);

// "+4852+00220" / "+404251-0740023" (ISO 6709 sign-degrees-minutes[-seconds]) -> degrees.
bool parse_zone_tab_coordinates(const std::string& s, double& lat, double& lon);

}  // namespace pf
