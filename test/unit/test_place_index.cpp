#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/place_index.hpp"

namespace {

struct Places {
    std::vector<int64_t> ids;
    std::vector<double> lats, lons;
    void add(int64_t id, double lat, double lon) {
        ids.push_back(id);
        lats.push_back(lat);
        lons.push_back(lon);
    }
    pf::PlaceIndex index() const {
        pf::PlaceIndex ix;
        ix.build(ids, lats, lons);
        return ix;
    }
};

int64_t nearest_id(const pf::PlaceIndex& ix, double lat, double lon) {
    auto hit = ix.nearest(lat, lon);
    return hit ? hit->id : -1;
}

}  // namespace

TEST(PlaceIndex, EmptyIndexFindsNothing) {
    pf::PlaceIndex ix;
    EXPECT_FALSE(ix.nearest(48.58, 7.75).has_value());
    ix.build({}, {}, {});
    EXPECT_TRUE(ix.empty());
    EXPECT_FALSE(ix.nearest(0, 0).has_value());
}

TEST(PlaceIndex, DistancesAreGreatCircle) {
    // Paris - London: 343.5 km on the mean-radius sphere.
    EXPECT_NEAR(pf::PlaceIndex::distance_km(48.8566, 2.3522, 51.5074, -0.1278), 343.5, 0.5);
    // A quarter of a meridian and half the equator.
    EXPECT_NEAR(pf::PlaceIndex::distance_km(0, 0, 90, 0), M_PI / 2 * pf::kEarthRadiusKm, 1e-6);
    EXPECT_NEAR(pf::PlaceIndex::distance_km(0, 0, 0, 180), M_PI * pf::kEarthRadiusKm, 1e-6);
    EXPECT_NEAR(pf::PlaceIndex::distance_km(10, 20, 10, 20), 0.0, 1e-9);
}

// Suva (Fiji) lies at 178.4 E; Taveuni's Waiyevo sits on the 180th meridian; the
// nearest place to a point just west of the antimeridian can be just east of it.
TEST(PlaceIndex, AntimeridianHasNoSeam) {
    Places p;
    p.add(1, -16.80, -179.99);  // just east of the antimeridian
    p.add(2, -16.80, 175.00);   // 5 degrees west
    p.add(3, 1.87, -157.36);    // Kiritimati
    auto ix = p.index();
    EXPECT_EQ(nearest_id(ix, -16.80, 179.99), 1);
    auto hit = ix.nearest(-16.80, 179.99);
    ASSERT_TRUE(hit);
    EXPECT_NEAR(hit->distance_km, 2.13, 0.05);  // 0.02 degrees of longitude at 16.8 S
    EXPECT_EQ(nearest_id(ix, -16.80, 180.0), 1);
    EXPECT_EQ(nearest_id(ix, -16.80, -180.0), 1);
    EXPECT_EQ(nearest_id(ix, 1.5, -157.0), 3);
}

TEST(PlaceIndex, PolesAreOnePointWhateverTheLongitude) {
    Places p;
    p.add(1, 89.9, 0.0);
    p.add(2, 89.9, 180.0);
    p.add(3, -89.99, 139.27);  // Amundsen-Scott-like station
    p.add(4, 78.22, 15.65);    // Longyearbyen
    auto ix = p.index();
    auto n = ix.nearest(90.0, 123.0);
    ASSERT_TRUE(n);
    EXPECT_TRUE(n->id == 1 || n->id == 2);
    EXPECT_NEAR(n->distance_km, 11.12, 0.01);
    // Every longitude of the pole is the same point: the answer must not change.
    EXPECT_EQ(nearest_id(ix, 90.0, -45.0), nearest_id(ix, 90.0, 77.0));
    EXPECT_EQ(nearest_id(ix, -90.0, 0.0), 3);
    EXPECT_EQ(nearest_id(ix, -90.0, -100.0), 3);
    EXPECT_EQ(nearest_id(ix, 89.95, 179.0), 2);
    EXPECT_EQ(nearest_id(ix, 89.95, -1.0), 1);
}

TEST(PlaceIndex, ZeroLatitudeAndLongitude) {
    Places p;
    p.add(1, 0.0, 0.0);
    p.add(2, 0.0, 0.5);
    p.add(3, 0.5, 0.0);
    p.add(4, 5.55, -0.2);  // Accra
    auto ix = p.index();
    auto hit = ix.nearest(0.0, 0.0);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->id, 1);
    EXPECT_EQ(hit->distance_km, 0.0);
    EXPECT_EQ(nearest_id(ix, 0.0, 0.4), 2);
    EXPECT_EQ(nearest_id(ix, 0.4, 0.0), 3);
    EXPECT_EQ(nearest_id(ix, -0.0, -0.0), 1);
}

TEST(PlaceIndex, InvalidQueriesAndPlacesAreRefusedNotAssumed) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    Places p;
    p.add(1, 10, 10);
    p.add(2, nan, 10);
    p.add(3, 91, 10);
    p.add(4, 10, 181);
    p.add(5, 10, -inf);
    auto ix = p.index();
    EXPECT_EQ(ix.size(), 1u);
    EXPECT_EQ(ix.skipped(), 4u);
    EXPECT_FALSE(ix.nearest(nan, 0).has_value());
    EXPECT_FALSE(ix.nearest(0, nan).has_value());
    EXPECT_FALSE(ix.nearest(90.0001, 0).has_value());
    EXPECT_FALSE(ix.nearest(-91, 0).has_value());
    EXPECT_FALSE(ix.nearest(0, 180.5).has_value());
    EXPECT_FALSE(ix.nearest(0, -inf).has_value());
    EXPECT_EQ(nearest_id(ix, 90, 180), 1);  // extremes themselves are valid
    EXPECT_THROW(ix.build({1, 2}, {0}, {0}), std::invalid_argument);
}

TEST(PlaceIndex, TiesGoToTheSmallerId) {
    Places p;
    p.add(9, 1.0, 1.0);
    p.add(4, 1.0, 1.0);
    p.add(7, 1.0, 1.0);
    EXPECT_EQ(nearest_id(p.index(), 1.0, 1.0), 4);
}

// The tree must agree with a linear scan everywhere, including clustered
// places (as real gazetteers are) and queries on and near the seams.
TEST(PlaceIndex, AgreesWithBruteForce) {
    std::mt19937_64 rng(12345);
    std::uniform_real_distribution<double> ulat(-90, 90), ulon(-180, 180), jitter(-0.5, 0.5);
    Places p;
    for (int i = 0; i < 6000; i++) {
        if (i % 2 == 0) {
            p.add(i, ulat(rng), ulon(rng));
        } else {  // a dense cluster (central Europe) and one straddling the antimeridian
            bool europe = i % 4 == 1;
            double lat = europe ? 48 + jitter(rng) * 4 : -17 + jitter(rng) * 4;
            double lon = europe ? 8 + jitter(rng) * 6 : 180 + jitter(rng) * 4;
            if (lon > 180) lon -= 360;
            p.add(i, lat, lon);
        }
    }
    auto ix = p.index();
    ASSERT_EQ(ix.size(), 6000u);
    for (int q = 0; q < 1200; q++) {
        double lat, lon;
        switch (q % 4) {
            case 0: lat = ulat(rng); lon = ulon(rng); break;
            case 1: lat = 48 + jitter(rng) * 4; lon = 8 + jitter(rng) * 6; break;
            case 2: lat = -17 + jitter(rng) * 4; lon = q % 8 == 2 ? 180.0 : -180.0 + std::abs(jitter(rng)); break;
            default: lat = q % 8 == 3 ? 90.0 : -90.0 + std::abs(jitter(rng)); lon = ulon(rng); break;
        }
        double best = 1e300;
        int64_t best_id = -1;
        for (size_t i = 0; i < p.ids.size(); i++) {
            double d = pf::PlaceIndex::distance_km(lat, lon, p.lats[i], p.lons[i]);
            if (d < best || (d == best && p.ids[i] < best_id)) {
                best = d;
                best_id = p.ids[i];
            }
        }
        auto hit = ix.nearest(lat, lon);
        ASSERT_TRUE(hit);
        // Equal distances may name either place; the distance must match exactly.
        EXPECT_NEAR(hit->distance_km, best, 1e-6) << "query " << lat << "," << lon;
        if (std::abs(hit->distance_km - best) > 1e-6) break;
    }
}
