#include <gtest/gtest.h>

#include <limits>

#include "core/datetime.hpp"
#include "core/filename_date.hpp"
#include "core/geo.hpp"
#include "core/library_layout.hpp"

using pf::LocalDateTime;

namespace {
const int64_t kNow = 1764000000;  // 2025-11-24
LocalDateTime dt(int y, int mo, int d, int h = 0, int mi = 0, int s = 0, int ns = 0) {
    LocalDateTime t;
    t.year = y; t.month = mo; t.day = d; t.hour = h; t.minute = mi; t.second = s; t.nanosecond = ns;
    return t;
}
}  // namespace

TEST(DateTime, ParsesExifAndIsoSpellings) {
    EXPECT_EQ(*pf::parse_exif_datetime("2023:12:25 12:34:56"), dt(2023, 12, 25, 12, 34, 56));
    EXPECT_EQ(*pf::parse_exif_datetime("2023-12-25T12:34:56+01:00"), dt(2023, 12, 25, 12, 34, 56));
    EXPECT_EQ(*pf::parse_exif_datetime("2023-12-25 12:34:56.250"), dt(2023, 12, 25, 12, 34, 56, 250000000));
    EXPECT_EQ(*pf::parse_exif_datetime("2023:12:25"), dt(2023, 12, 25));
}

TEST(DateTime, RejectsPlaceholdersAndNonsense) {
    EXPECT_FALSE(pf::parse_exif_datetime("0000:00:00 00:00:00"));
    EXPECT_FALSE(pf::parse_exif_datetime("2023:13:01 00:00:00"));
    EXPECT_FALSE(pf::parse_exif_datetime("2023:02:30 00:00:00"));
    EXPECT_FALSE(pf::parse_exif_datetime("    :  :     :  :  "));
    EXPECT_FALSE(pf::parse_exif_datetime(""));
    EXPECT_FALSE(pf::is_plausible(dt(1800, 1, 1), kNow));
    EXPECT_FALSE(pf::is_plausible(dt(2030, 1, 1), kNow));
    EXPECT_TRUE(pf::is_plausible(dt(1900, 1, 1), kNow));
    EXPECT_TRUE(pf::is_plausible(dt(2024, 2, 29), kNow));
    EXPECT_FALSE(pf::is_plausible(dt(2023, 2, 29), kNow));
}

TEST(DateTime, Offsets) {
    EXPECT_EQ(*pf::parse_utc_offset("+01:00"), 60);
    EXPECT_EQ(*pf::parse_utc_offset("-0530"), -330);
    EXPECT_EQ(*pf::parse_utc_offset("+09"), 540);
    EXPECT_EQ(*pf::parse_utc_offset("Z"), 0);
    EXPECT_FALSE(pf::parse_utc_offset("+25:00"));
    EXPECT_FALSE(pf::parse_utc_offset("01:00"));
}

TEST(DateTime, EpochRoundTripsAndFormats) {
    EXPECT_EQ(pf::from_epoch(0, 0), dt(1970, 1, 1));
    EXPECT_EQ(pf::from_epoch(1703507696, 60), dt(2023, 12, 25, 13, 34, 56));
    EXPECT_EQ(pf::from_epoch(1703507696, -480), dt(2023, 12, 25, 4, 34, 56));
    EXPECT_EQ(pf::to_epoch_utc(dt(2024, 2, 29, 23, 59, 59)), 1709251199);
    EXPECT_EQ(pf::from_epoch(pf::to_epoch_utc(dt(1969, 7, 20, 20, 17, 40)), 0), dt(1969, 7, 20, 20, 17, 40));
    EXPECT_EQ(pf::format_sql_timestamp(dt(2023, 1, 2, 3, 4, 5)), "2023-01-02 03:04:05");
    EXPECT_EQ(pf::format_sql_timestamp(dt(2023, 1, 2, 3, 4, 5, 123000000)), "2023-01-02 03:04:05.123");
}

TEST(FilenameDate, KnownPatterns) {
    struct Case { const char* name; LocalDateTime want; } cases[] = {
        {"IMG_20231225_123456.jpg", dt(2023, 12, 25, 12, 34, 56)},
        {"VID_20231225_123456.mp4", dt(2023, 12, 25, 12, 34, 56)},
        {"PXL_20231225_123456789.jpg", dt(2023, 12, 25, 12, 34, 56, 789000000)},
        {"20231225_123456.heic", dt(2023, 12, 25, 12, 34, 56)},
        {"IMG-20231225-WA0001.jpg", dt(2023, 12, 25)},
        {"Screenshot_2023-12-25-12-34-56.png", dt(2023, 12, 25, 12, 34, 56)},
        {"Screenshot 2023-12-25 at 12.34.56.png", dt(2023, 12, 25, 12, 34, 56)},
        {"2023-12-25 12.34.56.jpg", dt(2023, 12, 25, 12, 34, 56)},
        {"signal-2023-12-25-123456.jpg", dt(2023, 12, 25, 12, 34, 56)},
    };
    for (const auto& c : cases) {
        auto got = pf::date_from_filename(c.name, kNow);
        ASSERT_TRUE(got) << c.name;
        EXPECT_EQ(*got, c.want) << c.name;
    }
}

TEST(FilenameDate, NonMatches) {
    for (const char* n : {"IMG_1234.JPG", "12345678.jpg", "IMG_20231325_123456.jpg", "X120231225_123456.jpg",
                          "IMG_20991225_123456.jpg", "holiday.png"})
        EXPECT_FALSE(pf::date_from_filename(n, kNow)) << n;
}

TEST(Layout, DateFolderAndCollisionNames) {
    EXPECT_EQ(pf::date_folder(dt(2023, 1, 5)), "2023/2023-01-05");
    EXPECT_EQ(pf::collision_name("IMG_1234.HEIC", 0), "IMG_1234.HEIC");
    EXPECT_EQ(pf::collision_name("IMG_1234.HEIC", 1), "IMG_1234~1.HEIC");
    EXPECT_EQ(pf::collision_name("archive.tar.gz", 2), "archive.tar~2.gz");
    EXPECT_EQ(pf::collision_name("README", 3), "README~3");
    EXPECT_EQ(pf::collision_name(".hidden", 1), ".hidden~1");
    std::string longname(250, 'a');
    longname += ".jpeg";
    std::string c = pf::collision_name(longname, 12);
    EXPECT_LE(c.size(), 255u);
    EXPECT_EQ(c.substr(c.size() - 8), "~12.jpeg");
}

TEST(Geo, RangesAndNullIsland) {
    EXPECT_TRUE(pf::make_location(35.6762, 139.6503));
    EXPECT_TRUE(pf::make_location(-22.9068, -43.1729));
    EXPECT_FALSE(pf::make_location(0, 0));
    EXPECT_FALSE(pf::make_location(91, 0));
    EXPECT_FALSE(pf::make_location(0, -180.5));
    EXPECT_FALSE(pf::make_location(std::numeric_limits<double>::quiet_NaN(), 1));
}
