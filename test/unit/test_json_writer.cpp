#include <gtest/gtest.h>

#include <limits>

#include "core/json_writer.hpp"

TEST(JsonWriter, EscapesAndTypes) {
    pf::JsonObject o;
    o.add("s", "a\"b\\c\nd\x01").add("i", int64_t{-5}).add("d", 1.5).add("b", true).add_null("n");
    EXPECT_EQ(o.str(), R"({"s":"a\"b\\c\nd\u0001","i":-5,"d":1.5,"b":true,"n":null})");
}

TEST(JsonWriter, NonFiniteBecomesNull) {
    pf::JsonObject o;
    o.add("x", std::numeric_limits<double>::quiet_NaN());
    EXPECT_EQ(o.str(), R"({"x":null})");
}

TEST(JsonWriter, EmptyObjectAndRaw) {
    EXPECT_EQ(pf::JsonObject().str(), "{}");
    pf::JsonObject o;
    o.add_raw("a", "[1,2]");
    EXPECT_EQ(o.str(), R"({"a":[1,2]})");
}
