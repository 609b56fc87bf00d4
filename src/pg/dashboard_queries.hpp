// The dashboard's fixed, parameterised queries. Each returns one JSON text
// (the shape docs/dashboard.md describes) built by PostgreSQL itself, so the
// C++ renderer never sees a Datum. All run inside dashboard transactions
// (read-only but for curation) under the worker's pinned search_path and
// statement_timeout.
#pragma once

namespace pf::pg::dashq {

// Every 3-minute-slot uptime and status-change timeline (7 days), daily counts
// (30 days): refreshed every few minutes, in steps of one query per turn of
// the worker's loop (kSlowBounds, kSlowSlots x kSlowChunks, kSlowFinal), so a
// request waits behind one step at most.
constexpr int kSlowChunks = 14;  // 12 hours of the 7 days each (kSlowSlots): 14 x 12 h = 7 days
extern const char* const kSlowBounds;
extern const char* const kSlowSlots;
extern const char* const kSlowFinal;
// Queue depths (exact up to kCap, then "kCap+"), errors, inbox states, sizes:
// refreshed every 30 s, one query per turn of the loop; each returns a JSON
// object, merged in order.
constexpr int kFastSteps = 5;
extern const char* const kFastStats[kFastSteps];
// Live part of the health page, /api/status and /metrics.
extern const char* const kServices;
// Recent photos: $1 uuid (NULL: newest), $2 bool (asset_places exists).
extern const char* const kRecent;
extern const char* const kRecentWithPlaces;
// One asset: $1 uuid. NULL when unknown.
extern const char* const kAsset;
extern const char* const kAssetWithPlaces;
// Does a 0.2.0 object exist yet? (a database still at 0.1.0 lacks them)
extern const char* const kHasPlaces;
extern const char* const kHasThumbnails;
// The file of a rendition: $1 uuid, $2 text kind; NULL unless thumbnailed.
extern const char* const kThumbnailPath;
// Curation: as photofactory_operator, $1 uuid.
extern const char* const kCurate;

}  // namespace pf::pg::dashq
