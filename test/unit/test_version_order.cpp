#include <gtest/gtest.h>

#include "core/version_order.hpp"

using pf::compare_versions;
using pf::VersionOrder;

TEST(VersionOrder, NumericComponentsNotText) {
    EXPECT_EQ(compare_versions("0.1.0", "0.2.0"), VersionOrder::Older);
    EXPECT_EQ(compare_versions("0.2.0", "0.2.0"), VersionOrder::Same);
    EXPECT_EQ(compare_versions("0.3.0", "0.2.0"), VersionOrder::Newer);
    EXPECT_EQ(compare_versions("0.10.0", "0.9.0"), VersionOrder::Newer);
    EXPECT_EQ(compare_versions("1.0", "0.99.99"), VersionOrder::Newer);
}

TEST(VersionOrder, MissingComponentsAreZero) {
    EXPECT_EQ(compare_versions("0.2", "0.2.0"), VersionOrder::Same);
    EXPECT_EQ(compare_versions("0.2.0.1", "0.2.0"), VersionOrder::Newer);
}

TEST(VersionOrder, SuffixesDecideOnlyThroughTheirNumbers) {
    EXPECT_EQ(compare_versions("0.1.99-failtest", "0.2.0"), VersionOrder::Older);
    EXPECT_EQ(compare_versions("0.2.0-beta", "0.2.0"), VersionOrder::Unknown);
}

TEST(VersionOrder, GarbageIsUnknown) {
    EXPECT_EQ(compare_versions("", "0.2.0"), VersionOrder::Unknown);
    EXPECT_EQ(compare_versions("devel", "0.2.0"), VersionOrder::Unknown);
    EXPECT_EQ(compare_versions(nullptr, "0.2.0"), VersionOrder::Unknown);
    EXPECT_EQ(compare_versions("99999999999999.0", "0.2.0"), VersionOrder::Unknown);
}
