#include <gtest/gtest.h>

#include <vector>

#include "core/country_shapes.hpp"
#include "core/place_lookup.hpp"

namespace {

// Two countries split by the meridian 7.8 E (a river border), a big town 3.3 km
// west of the point below and a small one 2 km east of it.
constexpr int kFrance = 1, kGermany = 2;

pf::CountryShapes two_countries() {
    pf::CountryShapes s;
    const std::vector<double> west = {7.0, 48.0, 7.8, 48.0, 7.8, 49.0, 7.0, 49.0};
    const std::vector<double> east = {7.8, 48.0, 8.6, 48.0, 8.6, 49.0, 7.8, 49.0};
    s.add_ring(kFrance, 1, west.data(), 4);
    s.add_ring(kGermany, 2, east.data(), 4);
    return s;
}

pf::PlaceIndex border_towns() {
    const std::vector<int64_t> ids = {10, 20, 30};
    const std::vector<double> lats = {48.58392, 48.57297, 48.2};
    const std::vector<double> lons = {7.74553, 7.81523, 7.3};
    const std::vector<int32_t> countries = {kFrance, kGermany, kFrance};
    pf::PlaceIndex ix;
    ix.build(ids.data(), lats.data(), lons.data(), ids.size(), countries.data());
    return ix;
}

}  // namespace

TEST(CountryShapes, PointInPolygonWithHoles) {
    pf::CountryShapes s;
    const std::vector<double> outer = {0, 0, 10, 0, 10, 10, 0, 10};
    const std::vector<double> hole = {4, 4, 6, 4, 6, 6, 4, 6};
    const std::vector<double> enclave = {4, 4, 6, 4, 6, 6, 4, 6};
    s.add_ring(1, 100, outer.data(), 4);
    s.add_ring(1, 100, hole.data(), 4);
    s.add_ring(2, 200, enclave.data(), 4);
    EXPECT_EQ(s.polygons(), 2u);
    EXPECT_EQ(s.country_at(1, 1), 1);
    EXPECT_EQ(s.country_at(5, 5), 2);   // the hole of 1 is the enclave 2
    EXPECT_EQ(s.country_at(11, 5), -1);
    EXPECT_EQ(s.country_at(5, -0.1), -1);
    const std::vector<double> two = {0, 0, 1, 1};
    s.add_ring(3, 300, two.data(), 2);  // degenerate: ignored
    EXPECT_EQ(s.polygons(), 2u);
}

TEST(PlaceIndex, NearestInAndOutsideACountry) {
    auto ix = border_towns();
    auto hit = ix.nearest(48.5740, 7.7880);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->id, 20);
    EXPECT_EQ(hit->country, kGermany);
    auto fr = ix.nearest_in(48.5740, 7.7880, kFrance, 30);
    ASSERT_TRUE(fr);
    EXPECT_EQ(fr->id, 10);
    EXPECT_NEAR(fr->distance_km, 3.3, 0.1);
    EXPECT_FALSE(ix.nearest_in(48.5740, 7.7880, kFrance, 3.0));  // beyond reach
    auto other = ix.nearest_outside(48.5740, 7.7880, kGermany, 30);
    ASSERT_TRUE(other);
    EXPECT_EQ(other->id, 10);
    EXPECT_FALSE(ix.nearest_in(48.5740, 7.7880, 99, 20000));
}

TEST(PlaceLookup, TheCountryPolygonOverrulesAForeignNearestPlace) {
    auto ix = border_towns();
    auto shapes = two_countries();
    // 1 km west of the river: Kehl (DE) is nearest, but the point is in France.
    auto a = pf::lookup_place(ix, &shapes, 48.5740, 7.7880, 30);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->hit.id, 10);
    EXPECT_TRUE(a->border_corrected);
    // 1 km east: Kehl, untouched.
    a = pf::lookup_place(ix, &shapes, 48.5735, 7.8120, 30);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->hit.id, 20);
    EXPECT_FALSE(a->border_corrected);
    // Without polygons, or when the country's places are out of reach: the nearest place.
    a = pf::lookup_place(ix, nullptr, 48.5740, 7.7880, 30);
    EXPECT_EQ(a->hit.id, 20);
    a = pf::lookup_place(ix, &shapes, 48.5740, 7.7880, 3.0);
    EXPECT_EQ(a->hit.id, 20);
    EXPECT_FALSE(a->border_corrected);
    // Outside every polygon (at sea): the nearest place.
    a = pf::lookup_place(ix, &shapes, 47.5, 7.75, 200);
    EXPECT_EQ(a->hit.id, 30);
    EXPECT_FALSE(a->border_corrected);
    EXPECT_FALSE(pf::lookup_place(ix, &shapes, 91, 0, 30));
}
