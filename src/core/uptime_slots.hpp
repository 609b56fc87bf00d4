// The dashboard's uptime and status-change timeline, aggregated in the worker
// from 3-minute slots that arrive in chunks (a few hours of history per
// query), so no single query holds up the worker's one loop for long: grouping
// 7 days of heartbeats in one statement took ~316 ms at a month of history
// (bench/ dashboard phase), and every request arriving meanwhile waited.
//
// The figures are exactly those of the single-statement version (see
// dashboard_queries.cpp, kSlowSlots): a slot seen in two chunks (a chunk
// boundary inside it) merges as the GROUP BY would have grouped it.
#pragma once

#include "core/core_guard.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pf::dash {

// Status ranks as the SQL computes them: OK 0, WARNING 1, ERROR 2.
struct SlotRow {
    std::string service;
    int64_t slot = 0;      // floor(epoch / 180)
    bool good = false;     // some heartbeat in the slot is not ERROR
    int worst = 0;         // highest status rank in the slot
    int64_t first = 0;     // earliest heartbeat in the slot (any monotonic time unit)
};

struct ServiceUptime {
    std::string service;
    int64_t good1 = 0, good7 = 0;     // good slots whose first heartbeat is in the last day / the window
    std::optional<int64_t> first1;    // earliest slot start in the last day (none: no heartbeat in it)
    int64_t first7 = 0;
};

struct StatusChange {
    std::string service;
    int64_t first = 0;   // first heartbeat of the slot where the worst status changed
    int prev = -1;       // -1: the service's first slot in the window
    int worst = 0;
};

class SlotAggregate {
public:
    void clear() { slots_.clear(); }
    void add(const SlotRow& r);
    size_t slots() const;
    // Per service (by name), good1/first1 counting slots whose first heartbeat is after day_start.
    std::vector<ServiceUptime> uptime(int64_t day_start) const;
    // The latest `limit` changes of a service's worst status between consecutive slots, latest first.
    std::vector<StatusChange> latest_changes(size_t limit) const;

private:
    struct Slot {
        bool good;
        int worst;
        int64_t first;
    };
    std::map<std::string, std::map<int64_t, Slot>> slots_;
};

// What the final query of a refresh needs, as JSON text:
// {"up": [{"name", "good1", "good7", "first1" (null: none), "first7"}],
//  "changes": [{"name", "first", "prev" (null: first slot), "worst"}]}.
std::string slot_summary_json(const SlotAggregate& a, int64_t day_start, size_t change_limit);

}  // namespace pf::dash
