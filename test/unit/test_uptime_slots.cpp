// The dashboard's chunked uptime / timeline aggregation must give exactly what
// one GROUP BY over the whole window gives (the SQL it replaced): checked
// against a direct computation from the raw heartbeats, with chunk boundaries
// that cut through slots.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <tuple>
#include <vector>

#include "core/uptime_slots.hpp"

using pf::dash::SlotAggregate;
using pf::dash::SlotRow;

namespace {

constexpr int64_t kSlotUs = 180LL * 1000000;

struct Beat {
    std::string service;
    int64_t t;   // microseconds
    int rank;    // 0 OK, 1 WARNING, 2 ERROR
};

// GROUP BY service, slot over the beats with lo < t <= hi: what one chunk query returns.
std::vector<SlotRow> group(const std::vector<Beat>& beats, int64_t lo, int64_t hi) {
    std::map<std::pair<std::string, int64_t>, SlotRow> g;
    for (const auto& b : beats) {
        if (!(b.t > lo && b.t <= hi)) continue;
        int64_t slot = b.t / kSlotUs;
        auto [it, fresh] = g.try_emplace({b.service, slot});
        SlotRow& r = it->second;
        if (fresh) r = SlotRow{b.service, slot, b.rank != 2, b.rank, b.t};
        r.good = r.good || b.rank != 2;
        r.worst = std::max(r.worst, b.rank);
        r.first = std::min(r.first, b.t);
    }
    std::vector<SlotRow> out;
    for (auto& [k, r] : g) out.push_back(r);
    return out;
}

std::vector<Beat> history(unsigned seed, int services, int64_t start, int64_t end) {
    std::mt19937_64 rng(seed);
    std::vector<Beat> beats;
    for (int s = 0; s < services; s++)
        for (int64_t t = start + s * 1700000; t < end; t += 30000000 + static_cast<int64_t>(rng() % 3000000)) {
            unsigned r = rng() % 100;
            // An ERROR episode of ~7 minutes every 6 hours fills whole slots.
            bool episode = (t - start) / 1000000 % 21600 < 420;
            beats.push_back(Beat{"svc" + std::to_string(s), t, episode || r < 3 ? 2 : r < 7 ? 1 : 0});
        }
    return beats;
}

}  // namespace

TEST(UptimeSlots, ChunksCuttingSlotsGiveTheWholeWindowFigures) {
    const int64_t start = 1000 * kSlotUs + 12345, end = start + 7LL * 86400 * 1000000;
    auto beats = history(7, 5, start, end);
    SlotAggregate whole, chunked;
    for (const auto& r : group(beats, start - 1, end)) whole.add(r);
    // 14 chunks of 12 hours minus an odd offset: boundaries fall inside slots.
    const int64_t step = 12LL * 3600 * 1000000 - 7777777;
    int64_t lo = start - 1;
    while (lo < end) {
        int64_t hi = std::min(lo + step, end);
        for (const auto& r : group(beats, lo, hi)) chunked.add(r);
        lo = hi;
    }
    EXPECT_EQ(whole.slots(), chunked.slots());
    const int64_t day_start = end - 86400LL * 1000000;
    EXPECT_EQ(pf::dash::slot_summary_json(whole, day_start, 50), pf::dash::slot_summary_json(chunked, day_start, 50));
}

TEST(UptimeSlots, UptimeAndChangesMatchADirectComputation) {
    const int64_t start = 5000 * kSlotUs, end = start + 2LL * 86400 * 1000000;
    auto beats = history(11, 3, start, end);
    const int64_t day_start = end - 86400LL * 1000000;
    SlotAggregate a;
    for (const auto& r : group(beats, start - 1, start + 3600LL * 1000000 + 99)) a.add(r);
    for (const auto& r : group(beats, start + 3600LL * 1000000 + 99, end)) a.add(r);

    // Direct: per service, the slots (worst rank, any non-ERROR, first beat).
    std::map<std::string, std::map<int64_t, std::tuple<int, bool, int64_t>>> slots;
    for (const auto& b : beats) {
        auto [it, fresh] = slots[b.service].try_emplace(b.t / kSlotUs, b.rank, b.rank != 2, b.t);
        auto& [worst, good, first] = it->second;
        if (!fresh) {
            worst = std::max(worst, b.rank);
            good = good || b.rank != 2;
            first = std::min(first, b.t);
        }
    }
    auto up = a.uptime(day_start);
    ASSERT_EQ(up.size(), 3u);
    std::vector<pf::dash::StatusChange> changes;
    for (const auto& u : up) {
        int64_t good1 = 0, good7 = 0, first7 = INT64_MAX, first1 = INT64_MAX;
        int prev = -1;
        for (const auto& [slot, v] : slots[u.service]) {
            auto [worst, good, first] = v;
            good7 += good;
            good1 += good && first > day_start;
            first7 = std::min(first7, first);
            if (first > day_start) first1 = std::min(first1, first);
            if (worst != prev) changes.push_back({u.service, first, prev, worst});
            prev = worst;
        }
        EXPECT_EQ(u.good1, good1) << u.service;
        EXPECT_EQ(u.good7, good7) << u.service;
        EXPECT_EQ(u.first7, first7) << u.service;
        ASSERT_TRUE(u.first1.has_value());
        EXPECT_EQ(*u.first1, first1) << u.service;
        EXPECT_GT(good7, good1);
        EXPECT_LT(good7, static_cast<int64_t>(slots[u.service].size()));  // some slots were all ERROR
    }
    std::sort(changes.begin(), changes.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
    auto got = a.latest_changes(50);
    ASSERT_EQ(got.size(), 50u);
    for (size_t i = 0; i < got.size(); i++) {
        EXPECT_EQ(got[i].service, changes[i].service) << i;
        EXPECT_EQ(got[i].first, changes[i].first) << i;
        EXPECT_EQ(got[i].prev, changes[i].prev) << i;
        EXPECT_EQ(got[i].worst, changes[i].worst) << i;
    }
}

TEST(UptimeSlots, SummaryJsonMarksMissingDayAndFirstSlot) {
    SlotAggregate a;
    a.add(SlotRow{"old", 10, false, 2, 1800});
    a.add(SlotRow{"old", 11, true, 0, 1990});
    auto j = nlohmann::json::parse(pf::dash::slot_summary_json(a, 5000, 50));
    ASSERT_EQ(j["up"].size(), 1u);
    EXPECT_TRUE(j["up"][0]["first1"].is_null());  // no heartbeat in the last day
    EXPECT_EQ(j["up"][0]["good1"], 0);
    EXPECT_EQ(j["up"][0]["good7"], 1);
    EXPECT_EQ(j["up"][0]["first7"], 1800);
    ASSERT_EQ(j["changes"].size(), 2u);
    EXPECT_EQ(j["changes"][0]["prev"], 2);
    EXPECT_EQ(j["changes"][0]["worst"], 0);
    EXPECT_TRUE(j["changes"][1]["prev"].is_null());
    a.clear();
    EXPECT_EQ(a.slots(), 0u);
}
