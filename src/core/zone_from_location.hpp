// An IANA time-zone name for a GPS position, offline: the zone whose principal
// location in tzdata's zone1970.tab is nearest (great-circle distance), or the
// nautical zone Etc/GMT±N when every principal location is far away (open sea).
//
// Limits (docs/formats.md, "Time zones"): this is not a border map. Near a zone
// border the nearest principal city can be across it (e.g. eastern Spain is
// nearer to Europe/Andorra than to Europe/Madrid - harmless, same offset; but
// the south of Indiana or Tamanrasset in the Algerian Sahara, ~1,400 km from
// Algiers, get a neighbour's zone). It is only used for videos whose sole time
// is UTC, where the alternative is the configured default zone.
#pragma once

#include "core/core_guard.hpp"

#include <optional>
#include <string>

namespace pf {

// Where zone1970.tab is read from: $PF_ZONE_TABLE, else /usr/share/zoneinfo/zone1970.tab.
// The table is parsed once per process (thread-safe); a missing or unreadable
// table makes every lookup return nullopt.
std::optional<std::string> zone_from_location(double lat, double lon);

// Beyond this distance from every principal location the nautical zone is used.
constexpr double kZoneMaxDistanceKm = 1500.0;

// For tests: parse a table given as text (same format) and look up in it.
std::optional<std::string> zone_from_location_in(const std::string& table_text, double lat, double lon);

// "+4852+00220" / "+404251-0740023" (ISO 6709 sign-degrees-minutes[-seconds]) -> degrees.
bool parse_zone_tab_coordinates(const std::string& s, double& lat, double& lon);

}  // namespace pf
