// Metadata readers and the one-pass asset reader, on fixtures built in code:
// JPEGs written by Exiv2 itself, MP4s assembled box by box.
#include <gtest/gtest.h>
#include <exiv2/exiv2.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "core/asset_reader.hpp"
#include "core/bmff_reader.hpp"
#include "core/errors.hpp"
#include "core/exif_reader.hpp"
#include "core/sha256.hpp"
#include "temp_dir.hpp"

namespace {

const int64_t kNow = 1764000000;

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// A blank JPEG from Exiv2 with the given EXIF/XMP keys set.
std::string make_jpeg(const pf::test::TempDir& d, const std::string& name,
                      std::initializer_list<std::pair<const char*, const char*>> exif,
                      std::initializer_list<std::pair<const char*, const char*>> xmp = {}) {
    pf::init_metadata_library();
    std::string path = d / name;
    auto img = Exiv2::ImageFactory::create(Exiv2::ImageType::jpeg, path);
    for (auto& kv : exif) img->exifData()[kv.first] = kv.second;
    for (auto& kv : xmp) img->xmpData()[kv.first] = kv.second;
    img->writeMetadata();
    return path;
}

pf::ImageFacts facts_of(const std::string& path) {
    std::string b = read_all(path);
    return pf::read_image_facts(reinterpret_cast<const uint8_t*>(b.data()), b.size(), kNow);
}

std::string be32(uint32_t v) {
    return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}
std::string box(const std::string& type, const std::string& body) { return be32(8 + body.size()) + type + body; }
std::string mvhd(uint32_t mac_time) {
    return box("mvhd", std::string(4, '\0') + be32(mac_time) + be32(mac_time) + be32(1000) + be32(5000) +
                           std::string(80, '\0'));
}
std::string apple_meta(const std::string& key, const std::string& value) {
    std::string hdlr = box("hdlr", std::string(8, '\0') + "mdta" + std::string(13, '\0'));
    std::string keys = box("keys", std::string(4, '\0') + be32(1) + be32(8 + key.size()) + "mdta" + key);
    std::string data = box("data", be32(1) + be32(0) + value);
    std::string ilst = box("ilst", box(be32(1), data));
    return box("meta", hdlr + keys + ilst);
}
const uint32_t kMac = 2082844800u;  // 1970-01-01 in seconds since 1904

// The default zone is UTC+2; named zones are unknown.
bool offset_plus_two(int64_t, const char* zone, int* minutes, void*) {
    if (zone != nullptr) return false;
    *minutes = 120;
    return true;
}

}  // namespace

TEST(ExifReader, DatePrecedenceAndOffsets) {
    pf::test::TempDir d;
    auto f = facts_of(make_jpeg(d, "a.jpg", {{"Exif.Photo.DateTimeOriginal", "2023:12:25 12:34:56"},
                                             {"Exif.Photo.OffsetTimeOriginal", "+09:00"},
                                             {"Exif.Photo.SubSecTimeOriginal", "25"},
                                             {"Exif.Photo.DateTimeDigitized", "2020:01:01 00:00:00"}}));
    ASSERT_TRUE(f.captured);
    EXPECT_EQ(f.date_source, "exif_original");
    EXPECT_EQ(pf::format_sql_timestamp(*f.captured), "2023-12-25 12:34:56.25");
    EXPECT_EQ(*f.offset_minutes, 540);

    f = facts_of(make_jpeg(d, "b.jpg", {{"Exif.Photo.DateTimeOriginal", "0000:00:00 00:00:00"},
                                        {"Exif.Photo.DateTimeDigitized", "2022:02:02 02:02:02"}}));
    EXPECT_EQ(f.date_source, "exif_digitized");
    f = facts_of(make_jpeg(d, "c.jpg", {{"Exif.Image.DateTime", "2021:01:01 01:01:01"}}));
    EXPECT_EQ(f.date_source, "exif_image");
    f = facts_of(make_jpeg(d, "d.jpg", {}, {{"Xmp.exif.DateTimeOriginal", "2020-03-03T03:03:03+01:00"}}));
    EXPECT_EQ(f.date_source, "xmp");
    EXPECT_EQ(*f.offset_minutes, 60);
    f = facts_of(make_jpeg(d, "e.jpg", {{"Exif.Photo.DateTimeOriginal", "1800:01:01 00:00:00"}}));
    EXPECT_FALSE(f.captured);
}

TEST(ExifReader, GpsHemispheres) {
    pf::test::TempDir d;
    auto f = facts_of(make_jpeg(d, "s.jpg", {{"Exif.GPSInfo.GPSLatitudeRef", "S"},
                                             {"Exif.GPSInfo.GPSLatitude", "22/1 54/1 2448/100"},
                                             {"Exif.GPSInfo.GPSLongitudeRef", "W"},
                                             {"Exif.GPSInfo.GPSLongitude", "43/1 10/1 2244/100"}}));
    ASSERT_TRUE(f.location);
    EXPECT_NEAR(f.location->lat, -22.9068, 1e-4);
    EXPECT_NEAR(f.location->lon, -43.1729, 1e-4);
    f = facts_of(make_jpeg(d, "z.jpg", {{"Exif.GPSInfo.GPSLatitudeRef", "N"}, {"Exif.GPSInfo.GPSLatitude", "0/1 0/1 0/1"},
                                        {"Exif.GPSInfo.GPSLongitudeRef", "E"}, {"Exif.GPSInfo.GPSLongitude", "0/1 0/1 0/1"}}));
    EXPECT_FALSE(f.location);
}

TEST(ExifReader, CorruptSegmentIsRecordedNotThrown) {
    std::string b("\xFF\xD8\xFF\xE1\x00\x40" "Exif\0\0II*\0\xFF\xFF\xFF\x7F", 20);
    b += std::string(48, '\xAB') + "\xFF\xD9";
    pf::init_metadata_library();
    pf::ImageFacts f;
    EXPECT_NO_THROW(f = pf::read_image_facts(reinterpret_cast<const uint8_t*>(b.data()), b.size(), kNow));
    EXPECT_FALSE(f.captured);
}

TEST(BmffReader, MvhdUdtaAndAppleKeys) {
    std::string moov = box("moov", mvhd(kMac + 1690907400u) +
                                       box("udta", box("\xA9xyz", std::string("\x00\x13\x15\xc7", 4) + "+48.8584+002.2945/")) +
                                       apple_meta("com.apple.quicktime.creationdate", "2023-12-25T12:34:56+0100"));
    std::string file = box("ftyp", "qt  " + be32(0) + "qt  ") + box("mdat", std::string(5000, 'x')) + moov;
    pf::MemoryRandomAccess in(reinterpret_cast<const uint8_t*>(file.data()), file.size());
    auto v = pf::read_video_facts(in);
    ASSERT_TRUE(v.creation_utc_epoch);
    EXPECT_EQ(*v.creation_utc_epoch, 1690907400);
    ASSERT_TRUE(v.location);
    EXPECT_NEAR(v.location->lat, 48.8584, 1e-6);
    ASSERT_TRUE(v.apple_local);
    EXPECT_EQ(pf::format_sql_timestamp(*v.apple_local), "2023-12-25 12:34:56");
    EXPECT_EQ(*v.apple_offset_minutes, 60);
    EXPECT_TRUE(v.errors.empty());
}

TEST(BmffReader, LargesizeTruncationAndGarbage) {
    // 64-bit size header on mdat, then moov.
    std::string mdat = be32(1) + "mdat" + std::string(4, '\0') + be32(16 + 10) + std::string(10, 'x');
    std::string file = box("ftyp", "isom" + be32(0)) + mdat + box("moov", mvhd(kMac + 1000000000u));
    pf::MemoryRandomAccess in(reinterpret_cast<const uint8_t*>(file.data()), file.size());
    EXPECT_EQ(*pf::read_video_facts(in).creation_utc_epoch, 1000000000);

    std::string cut = file.substr(0, file.size() - 50);  // moov truncated
    pf::MemoryRandomAccess in2(reinterpret_cast<const uint8_t*>(cut.data()), cut.size());
    auto v = pf::read_video_facts(in2);
    EXPECT_FALSE(v.errors.empty());

    std::string bad = be32(3) + "moov" + std::string(100, '\xff');  // size smaller than its header
    pf::MemoryRandomAccess in3(reinterpret_cast<const uint8_t*>(bad.data()), bad.size());
    EXPECT_NO_THROW(pf::read_video_facts(in3));
}

TEST(AssetReader, OneReadGivesHashAndDateChain) {
    pf::test::TempDir d;
    std::string path = make_jpeg(d, "IMG_20190909_090909.jpg", {{"Exif.Photo.DateTimeOriginal", "2023:12:25 12:34:56"}});
    std::string bytes = read_all(path);
    pf::Sha256 h;
    h.update(bytes.data(), bytes.size());
    std::string want = h.hex_digest();
    int fd = open(path.c_str(), O_RDONLY);
    pf::ReadOptions o;
    o.now_epoch = kNow;
    o.head_bytes = 64;  // far smaller than the file: hashing must still see every byte
    o.chunk_bytes = 100;
    auto f = pf::read_asset(fd, "IMG_20190909_090909.jpg", o);
    close(fd);
    EXPECT_EQ(f.sha256, want);
    EXPECT_EQ(f.size_bytes, bytes.size());
    EXPECT_EQ(f.type.format, "jpeg");
    EXPECT_EQ(f.date_source, "exif_original");  // found again through the file itself

    // No metadata: the name, then the mtime (in the zone the callback gives).
    std::string bare = make_jpeg(d, "IMG_20190909_090909b.jpg", {});
    fd = open(bare.c_str(), O_RDONLY);
    EXPECT_EQ(pf::read_asset(fd, "IMG_20190909_090909.jpg", o).date_source, "filename");
    struct timespec t[2] = {{0, UTIME_OMIT}, {1600000000, 0}};
    futimens(fd, t);
    o.utc_offset_for = offset_plus_two;
    auto m = pf::read_asset(fd, "holiday.jpg", o);
    close(fd);
    EXPECT_EQ(m.date_source, "mtime");
    EXPECT_EQ(pf::format_sql_timestamp(m.captured), "2020-09-13 14:26:40");
    EXPECT_EQ(*m.utc_offset_minutes, 120);
}

TEST(AssetReader, VideoUtcBecomesLocal) {
    pf::test::TempDir d;
    std::string file = box("ftyp", "isom" + be32(0)) + box("moov", mvhd(kMac + 1690907400u));
    d.write("VID.mp4", file);
    int fd = open((d / "VID.mp4").c_str(), O_RDONLY);
    pf::ReadOptions o;
    o.now_epoch = kNow;
    o.utc_offset_for = offset_plus_two;
    auto f = pf::read_asset(fd, "VID.mp4", o);
    close(fd);
    EXPECT_EQ(f.type.kind, pf::MediaKind::Video);
    EXPECT_EQ(f.date_source, "video_utc");
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2023-08-01 18:30:00");
}

TEST(AssetReader, Rejections) {
    pf::test::TempDir d;
    d.write("empty.jpg", "");
    d.write("notes.jpg", "shopping list");
    for (auto [name, reason] : {std::pair{"empty.jpg", pf::RejectReason::Empty},
                                std::pair{"notes.jpg", pf::RejectReason::NotMedia}}) {
        int fd = open((d / name).c_str(), O_RDONLY);
        try {
            pf::read_asset(fd, name);
            ADD_FAILURE() << name << " was not rejected";
        } catch (const pf::RejectError& e) {
            EXPECT_EQ(e.reason, reason) << name;
        }
        close(fd);
    }
    ASSERT_EQ(mkfifo((d / "pipe.jpg").c_str(), 0600), 0);
    int fd = open((d / "pipe.jpg").c_str(), O_RDONLY | O_NONBLOCK);
    EXPECT_THROW(pf::read_asset(fd, "pipe.jpg"), pf::RejectError);
    close(fd);
}
