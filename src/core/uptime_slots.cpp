#include "core/uptime_slots.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace pf::dash {

void SlotAggregate::add(const SlotRow& r) {
    auto& by_slot = slots_[r.service];
    auto it = by_slot.find(r.slot);
    if (it == by_slot.end()) {
        by_slot.emplace(r.slot, Slot{r.good, r.worst, r.first});
        return;
    }
    // bool_or, max and min, as the one GROUP BY over the whole window would.
    it->second.good = it->second.good || r.good;
    it->second.worst = std::max(it->second.worst, r.worst);
    it->second.first = std::min(it->second.first, r.first);
}

size_t SlotAggregate::slots() const {
    size_t n = 0;
    for (const auto& s : slots_) n += s.second.size();
    return n;
}

std::vector<ServiceUptime> SlotAggregate::uptime(int64_t day_start) const {
    std::vector<ServiceUptime> out;
    for (const auto& [name, by_slot] : slots_) {
        if (by_slot.empty()) continue;
        ServiceUptime u;
        u.service = name;
        bool have7 = false;
        for (const auto& [slot, s] : by_slot) {
            bool in_day = s.first > day_start;
            if (s.good) {
                u.good7++;
                if (in_day) u.good1++;
            }
            if (!have7 || s.first < u.first7) u.first7 = s.first;
            have7 = true;
            if (in_day && (!u.first1 || s.first < *u.first1)) u.first1 = s.first;
        }
        out.push_back(std::move(u));
    }
    return out;
}

std::vector<StatusChange> SlotAggregate::latest_changes(size_t limit) const {
    std::vector<StatusChange> all;
    for (const auto& [name, by_slot] : slots_) {
        int prev = -1;
        for (const auto& [slot, s] : by_slot) {
            if (s.worst != prev) all.push_back(StatusChange{name, s.first, prev, s.worst});
            prev = s.worst;
        }
    }
    // Latest first; equal times (two services changing in the same
    // microsecond) in service order, so the cut at `limit` is stable.
    std::sort(all.begin(), all.end(), [](const StatusChange& a, const StatusChange& b) {
        return a.first != b.first ? a.first > b.first : a.service < b.service;
    });
    if (all.size() > limit) all.resize(limit);
    return all;
}

std::string slot_summary_json(const SlotAggregate& a, int64_t day_start, size_t change_limit) {
    using nlohmann::json;
    json up = json::array();
    for (const auto& u : a.uptime(day_start))
        up.push_back({{"name", u.service},
                      {"good1", u.good1},
                      {"good7", u.good7},
                      {"first1", u.first1 ? json(*u.first1) : json(nullptr)},
                      {"first7", u.first7}});
    json changes = json::array();
    for (const auto& c : a.latest_changes(change_limit))
        changes.push_back({{"name", c.service},
                           {"first", c.first},
                           {"prev", c.prev < 0 ? json(nullptr) : json(c.prev)},
                           {"worst", c.worst}});
    return json{{"up", up}, {"changes", changes}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace pf::dash
