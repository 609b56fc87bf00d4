#include <gtest/gtest.h>

#include <string>

#include "core/log_escape.hpp"

TEST(LogEscape, KeepsPrintableUtf8) {
    EXPECT_EQ(pf::log_escape("Été/IMG 0001.jpg"), "Été/IMG 0001.jpg");
    EXPECT_EQ(pf::log_escape("写真.heic"), "写真.heic");
}

TEST(LogEscape, NoLineBreakSurvives) {
    std::string forged = "a.jpg\n2026-01-01 00:00:00 UTC [1] LOG:  fake\r";
    std::string out = pf::log_escape(forged);
    EXPECT_EQ(out.find('\n'), std::string::npos);
    EXPECT_EQ(out.find('\r'), std::string::npos);
    EXPECT_EQ(out, "a.jpg\\n2026-01-01 00:00:00 UTC [1] LOG:  fake\\r");
}

TEST(LogEscape, ControlsInvalidBytesAndBackslash) {
    EXPECT_EQ(pf::log_escape(std::string("a\x01\x7f\tb", 5)), "a\\x01\\x7F\\tb");
    EXPECT_EQ(pf::log_escape("caf\xe9.jpg"), "caf\\xE9.jpg");         // Latin-1, not UTF-8
    EXPECT_EQ(pf::log_escape("\xc0\xaf"), "\\xC0\\xAF");              // overlong '/'
    EXPECT_EQ(pf::log_escape("\xc2\x85"), "\\xC2\\x85");              // C1 NEL: a line break to some viewers
    EXPECT_EQ(pf::log_escape("a\\x01"), "a\\\\x01");                   // a literal backslash stays distinct
    EXPECT_EQ(pf::log_escape(std::string("nul\0x", 5)), "nul\\x00x");
}

TEST(LogEscape, AbsolutePath) {
    EXPECT_EQ(pf::log_escape_path("/srv/inbox", "Pixel/a\nb.jpg"), "/srv/inbox/Pixel/a\\nb.jpg");
    EXPECT_EQ(pf::log_escape_path("/srv/inbox/", "x.jpg"), "/srv/inbox/x.jpg");
}
