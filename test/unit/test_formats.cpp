// Formats and time zones (issue #6): mvhd v1, ©day, the HEIF Exif-item
// fallback, PNG eXIf, GIF XMP, sub-seconds, Motion Photos, zone_from_location
// and the zone-name callback of read_asset. Fixtures are built in code; one
// test also uses ImageMagick + exiftool when they are installed.
#include <gtest/gtest.h>
#include <exiv2/exiv2.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "core/asset_reader.hpp"
#include "core/bmff_reader.hpp"
#include "core/exif_reader.hpp"
#include "core/media_type.hpp"
#include "core/zone_from_location.hpp"
#include "temp_dir.hpp"

namespace {

const int64_t kNow = 1764000000;    // 2025-11-24
const uint32_t kMac = 2082844800u;  // 1970-01-01 in seconds since 1904

std::string be16(uint16_t v) { return std::string{char(v >> 8), char(v)}; }
std::string be32(uint32_t v) { return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }
std::string be64(uint64_t v) { return be32(uint32_t(v >> 32)) + be32(uint32_t(v)); }
std::string box(const std::string& type, const std::string& body) { return be32(uint32_t(8 + body.size())) + type + body; }
std::string fullbox(const std::string& type, int version, const std::string& body) {
    return box(type, std::string(1, char(version)) + std::string(3, '\0') + body);
}
std::string mvhd_v0(uint32_t mac) {
    return fullbox("mvhd", 0, be32(mac) + be32(mac) + be32(1000) + be32(5000) + std::string(80, '\0'));
}
std::string mvhd_v1(uint64_t mac) {
    return fullbox("mvhd", 1, be64(mac) + be64(mac) + be32(1000) + be64(5000) + std::string(80, '\0'));
}
std::string udta_text(const std::string& type, const std::string& text) {
    return box(type, be16(uint16_t(text.size())) + be16(0x15c7) + text);
}
std::string apple_meta(const std::string& key, const std::string& value) {
    std::string hdlr = box("hdlr", std::string(8, '\0') + "mdta" + std::string(13, '\0'));
    std::string keys = box("keys", std::string(4, '\0') + be32(1) + be32(uint32_t(8 + key.size())) + "mdta" + key);
    std::string ilst = box("ilst", box(be32(1), box("data", be32(1) + be32(0) + value)));
    return box("meta", hdlr + keys + ilst);
}
std::string mp4(const std::string& moov_body, const char* brand = "isom") {
    return box("ftyp", std::string(brand) + be32(0) + "isommp41") + box("mdat", std::string(64, 'v')) +
           box("moov", moov_body);
}

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// A TIFF/EXIF block as cameras embed it, encoded by Exiv2.
std::string tiff_block(std::initializer_list<std::pair<const char*, const char*>> tags) {
    pf::init_metadata_library();
    Exiv2::ExifData d;
    for (auto& kv : tags) d[kv.first] = kv.second;
    Exiv2::Blob blob;
    Exiv2::ExifParser::encode(blob, Exiv2::littleEndian, d);
    return std::string(blob.begin(), blob.end());
}

const std::initializer_list<std::pair<const char*, const char*>> kTokyoTags = {
    {"Exif.Photo.DateTimeOriginal", "2023:12:25 12:34:56"},
    {"Exif.Photo.OffsetTimeOriginal", "+09:00"},
    {"Exif.Photo.SubSecTimeOriginal", "123"},
    {"Exif.GPSInfo.GPSLatitudeRef", "N"},
    {"Exif.GPSInfo.GPSLatitude", "35/1 40/1 3432/100"},
    {"Exif.GPSInfo.GPSLongitudeRef", "E"},
    {"Exif.GPSInfo.GPSLongitude", "139/1 39/1 98/100"},
};

// A minimal HEIF still: ftyp, meta (hdlr, pitm, iinf with an hvc1 and an Exif
// item, iloc), and the Exif item either in mdat (construction method 0) or in
// meta's idat (method 1).
std::string heif(const std::string& tiff, bool in_idat, int iloc_version = 1) {
    std::string payload = be32(6) + std::string("Exif\0\0", 6) + tiff;
    std::string ftyp = box("ftyp", std::string("heic") + be32(0) + "mif1heic");
    std::string hdlr = fullbox("hdlr", 0, be32(0) + "pict" + std::string(12, '\0') + std::string(1, '\0'));
    std::string pitm = fullbox("pitm", 0, be16(1));
    std::string iinf = fullbox("iinf", 0,
                               be16(2) + fullbox("infe", 2, be16(1) + be16(0) + "hvc1" + std::string(1, '\0')) +
                                   fullbox("infe", 2, be16(2) + be16(0) + "Exif" + std::string(1, '\0')));
    auto iloc = [&](uint32_t offset) {
        std::string b;
        b += char(0x44);  // offset_size 4, length_size 4
        b += char(0x40);  // base_offset_size 4, index_size 0
        auto n = [&](uint32_t v) { return iloc_version == 2 ? be32(v) : be16(uint16_t(v)); };
        b += n(1);  // one item
        b += n(2);  // item 2: Exif
        if (iloc_version >= 1) b += be16(in_idat ? 1 : 0);  // construction method
        b += be16(0) + be32(0) + be16(1) + be32(offset) + be32(uint32_t(payload.size()));
        return fullbox("iloc", iloc_version, b);
    };
    std::string idat = in_idat ? box("idat", payload) : "";
    // The iloc size does not depend on the offset: lay out once, then patch.
    // Laid out as ImageMagick (libheif) writes it: iloc before iinf, with a
    // 4-byte base offset (0) before the extent offset. Exiv2 0.27.6 then takes
    // the base offset for the extent's and reads nothing.
    std::string meta = fullbox("meta", 0, hdlr + pitm + idat + iloc(0) + iinf);
    uint32_t offset = in_idat ? 0 : uint32_t(ftyp.size() + meta.size() + 8);
    meta = fullbox("meta", 0, hdlr + pitm + idat + iloc(offset) + iinf);
    std::string mdat = box("mdat", in_idat ? std::string(16, 'h') : payload + std::string(16, 'h'));
    return ftyp + meta + mdat;
}

uint32_t crc32(const std::string& s) {
    uint32_t c = 0xFFFFFFFFu;
    for (unsigned char b : s) {
        c ^= b;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}
std::string png_chunk(const std::string& type, const std::string& data) {
    return be32(uint32_t(data.size())) + type + data + be32(crc32(type + data));
}
// 1x1 grey PNG; extra chunks go after IDAT (where Exiv2 0.27 does not look for eXIf).
std::string png(const std::string& after_idat) {
    std::string ihdr = be32(1) + be32(1) + std::string("\x08\x00\x00\x00\x00", 5);
    std::string idat("\x78\x9c\x63\x60\x00\x00\x00\x02\x00\x01", 10);
    return std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) + png_chunk("IDAT", idat) + after_idat +
           png_chunk("IEND", "");
}

std::string xmp_packet(const std::string& body_attrs) {
    return "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>"
           "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
           "<rdf:Description rdf:about=\"\" xmlns:GCamera=\"http://ns.google.com/photos/1.0/camera/\" "
           "xmlns:exif=\"http://ns.adobe.com/exif/1.0/\" " +
           body_attrs + "/></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>";
}

// JPEG: SOI, APP1 Exif, APP1 XMP, a token scan, EOI; then `trailer` (e.g. an MP4).
std::string jpeg(const std::string& tiff, const std::string& xmp, const std::string& trailer = "") {
    std::string j("\xFF\xD8", 2);
    if (!tiff.empty()) {
        std::string seg = std::string("Exif\0\0", 6) + tiff;
        j += std::string("\xFF\xE1", 2) + be16(uint16_t(seg.size() + 2)) + seg;
    }
    if (!xmp.empty()) {
        std::string seg = std::string("http://ns.adobe.com/xap/1.0/\0", 29) + xmp;
        j += std::string("\xFF\xE1", 2) + be16(uint16_t(seg.size() + 2)) + seg;
    }
    j += std::string("\xFF\xD9", 2);
    return j + trailer;
}

// Fake time-zone database: the default zone is UTC+1; Asia/Tokyo is +9 and
// America/New_York is -4 (summer); every other named zone is unknown.
struct ZoneCalls {
    int named = 0;
    std::string last;
};
bool fake_zones(int64_t, const char* zone, int* minutes, void* ctx) {
    auto* calls = static_cast<ZoneCalls*>(ctx);
    if (zone == nullptr) {
        *minutes = 60;
        return true;
    }
    if (calls) {
        calls->named++;
        calls->last = zone;
    }
    if (std::strcmp(zone, "Asia/Tokyo") == 0) *minutes = 540;
    else if (std::strcmp(zone, "America/New_York") == 0) *minutes = -240;
    else return false;
    return true;
}

pf::AssetFacts read_file(const pf::test::TempDir& d, const std::string& name, const std::string& bytes,
                         pf::ReadOptions o = {}) {
    d.write(name, bytes);
    if (o.now_epoch == 0) o.now_epoch = kNow;
    int fd = open((d / name).c_str(), O_RDONLY);
    EXPECT_GE(fd, 0);
    pf::AssetFacts f = pf::read_asset(fd, name, o);
    close(fd);
    return f;
}

pf::ImageFacts exiv2_only(const std::string& bytes) {
    pf::init_metadata_library();
    return pf::read_image_facts(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), kNow);
}

pf::ReadOptions zoned(ZoneCalls* calls = nullptr) {
    pf::ReadOptions o;
    o.now_epoch = kNow;
    o.utc_offset_for = fake_zones;
    o.utc_offset_ctx = calls;
    o.default_zone_name = "Europe/Paris";
    return o;
}

}  // namespace

// ------------------------------------------------------------------ video boxes

TEST(Video, MvhdVersion1Has64BitTimes) {
    std::string file = mp4(mvhd_v1(uint64_t(kMac) + 1690907400u));
    pf::MemoryRandomAccess in(reinterpret_cast<const uint8_t*>(file.data()), file.size());
    auto v = pf::read_video_facts(in);
    ASSERT_TRUE(v.creation_utc_epoch);
    EXPECT_EQ(*v.creation_utc_epoch, 1690907400);
    // Beyond 2106 only fits version 1.
    std::string far = mp4(mvhd_v1(uint64_t(kMac) + 5000000000ULL));
    pf::MemoryRandomAccess in2(reinterpret_cast<const uint8_t*>(far.data()), far.size());
    EXPECT_EQ(*pf::read_video_facts(in2).creation_utc_epoch, 5000000000LL);
    // Zero and garbage are "not set".
    std::string zero = mp4(mvhd_v1(0));
    pf::MemoryRandomAccess in3(reinterpret_cast<const uint8_t*>(zero.data()), zero.size());
    EXPECT_FALSE(pf::read_video_facts(in3).creation_utc_epoch);
    std::string huge = mp4(mvhd_v1(~0ULL));
    pf::MemoryRandomAccess in4(reinterpret_cast<const uint8_t*>(huge.data()), huge.size());
    EXPECT_FALSE(pf::read_video_facts(in4).creation_utc_epoch);
}

TEST(Video, DayInUdtaAndInIlst) {
    std::string file = mp4(mvhd_v0(kMac + 1690907400u) + box("udta", udta_text("\xA9" "day", "2023-08-01T18:30:00+0200")));
    pf::MemoryRandomAccess in(reinterpret_cast<const uint8_t*>(file.data()), file.size());
    auto v = pf::read_video_facts(in);
    ASSERT_TRUE(v.day_local);
    EXPECT_EQ(pf::format_sql_timestamp(*v.day_local), "2023-08-01 18:30:00");
    EXPECT_EQ(*v.day_offset_minutes, 120);

    // iTunes-style: udta/meta/ilst/©day/data, and ©xyz there too.
    std::string hdlr = fullbox("hdlr", 0, be32(0) + "mdir" + "appl" + std::string(9, '\0'));
    std::string ilst = box("ilst", box("\xA9" "day", box("data", be32(1) + be32(0) + "2022-02-02T10:00:00-0500")) +
                                       box("\xA9xyz", box("data", be32(1) + be32(0) + "+40.7128-074.0060/")));
    std::string file2 = mp4(mvhd_v0(0) + box("udta", fullbox("meta", 0, hdlr + ilst)));
    pf::MemoryRandomAccess in2(reinterpret_cast<const uint8_t*>(file2.data()), file2.size());
    v = pf::read_video_facts(in2);
    ASSERT_TRUE(v.day_local);
    EXPECT_EQ(pf::format_sql_timestamp(*v.day_local), "2022-02-02 10:00:00");
    EXPECT_EQ(*v.day_offset_minutes, -300);
    ASSERT_TRUE(v.location);
    EXPECT_NEAR(v.location->lon, -74.006, 1e-6);
    EXPECT_TRUE(v.errors.empty());
}

TEST(Video, AppleCreationDateKeepsOffsetAndFraction) {
    pf::test::TempDir d;
    std::string file = mp4(mvhd_v0(kMac + 1703504096u) +
                               apple_meta("com.apple.quicktime.creationdate", "2023-12-25T12:34:56.789+0100"),
                           "qt  ");
    auto f = read_file(d, "IMG_0001.MOV", file, zoned());
    EXPECT_EQ(f.type.format, "mov");
    EXPECT_EQ(f.date_source, "video_local");
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2023-12-25 12:34:56.789");
    EXPECT_EQ(*f.utc_offset_minutes, 60);
    EXPECT_EQ(f.zone_source, "file");
    EXPECT_EQ(pf::time_zone_label(f), "file");
    ASSERT_TRUE(f.utc_epoch);
    EXPECT_EQ(*f.utc_epoch, 1703504096);  // 11:34:56 UTC
}

TEST(Video, AppleCreationDateWithoutOffsetKeepsMvhdInstant) {
    pf::test::TempDir d;
    std::string file = mp4(mvhd_v0(kMac + 1703504096u) +
                               apple_meta("com.apple.quicktime.creationdate", "2023-12-25T12:34:56"),
                           "qt  ");
    auto f = read_file(d, "IMG_0002.MOV", file, zoned());
    EXPECT_EQ(f.date_source, "video_local");
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2023-12-25 12:34:56");
    EXPECT_FALSE(f.utc_offset_minutes);
    EXPECT_EQ(f.zone_source, "");
    ASSERT_TRUE(f.utc_epoch);
    EXPECT_EQ(*f.utc_epoch, 1703504096);
}

TEST(Video, DayWithZoneIsLocalDayWithZIsUtc) {
    pf::test::TempDir d;
    auto f = read_file(d, "a.mp4", mp4(mvhd_v0(0) + box("udta", udta_text("\xA9" "day", "2023-08-01T18:30:00+0200"))),
                       zoned());
    EXPECT_EQ(f.date_source, "video_local");
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2023-08-01 18:30:00");
    EXPECT_EQ(*f.utc_epoch, 1690907400);
    f = read_file(d, "b.mp4", mp4(mvhd_v0(0) + box("udta", udta_text("\xA9" "day", "2023-08-01T16:30:00Z"))), zoned());
    EXPECT_EQ(f.date_source, "video_utc");
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2023-08-01 17:30:00");  // default zone, UTC+1 here
    EXPECT_EQ(pf::time_zone_label(f), "default:Europe/Paris");
}

TEST(Video, AviAndMkvAreVideosDatedByNameOrMtime) {
    pf::test::TempDir d;
    auto f = read_file(d, "VID_20230102_030405.avi", std::string("RIFF\x10\0\0\0AVI LIST", 16) + std::string(32, '\0'),
                       zoned());
    EXPECT_EQ(f.type.kind, pf::MediaKind::Video);
    EXPECT_EQ(f.type.format, "avi");
    EXPECT_EQ(f.date_source, "filename");
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2023-01-02 03:04:05");
    EXPECT_EQ(f.zone_source, "");
    EXPECT_FALSE(f.utc_epoch);
    f = read_file(d, "holiday.mkv", std::string("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01", 9) + std::string(32, '\0'),
                  zoned());
    EXPECT_EQ(f.type.format, "mkv");
    EXPECT_EQ(f.date_source, "mtime");
    EXPECT_EQ(pf::time_zone_label(f), "default:Europe/Paris");
    EXPECT_TRUE(f.utc_epoch);
}

// ------------------------------------------------------------------ zones

TEST(ZoneFromLocation, PrincipalCitiesAndOpenSea) {
    EXPECT_EQ(pf::zone_from_location(48.8566, 2.3522).value_or(""), "Europe/Paris");
    EXPECT_EQ(pf::zone_from_location(35.6762, 139.6503).value_or(""), "Asia/Tokyo");
    EXPECT_EQ(pf::zone_from_location(40.7128, -74.0060).value_or(""), "America/New_York");
    EXPECT_EQ(pf::zone_from_location(-33.8688, 151.2093).value_or(""), "Australia/Sydney");
    EXPECT_EQ(pf::zone_from_location(52.52, 13.405).value_or(""), "Europe/Berlin");
    // Mid-Pacific, >2,000 km from any principal location: the nautical zone
    // (POSIX sign: Etc/GMT+9 is UTC-9).
    EXPECT_EQ(pf::zone_from_location(10.0, -140.0).value_or(""), "Etc/GMT+9");
    // South Atlantic, ~1,800 km from St Helena: UTC-1 -> Etc/GMT+1.
    EXPECT_EQ(pf::zone_from_location(-30.0, -15.0).value_or(""), "Etc/GMT+1");
    // zone.tab adds capitals that zone1970.tab folds into a neighbour's row
    // (Ethiopia is in Nairobi's row, whose principal city is 1,150 km away).
    EXPECT_EQ(pf::zone_from_location(9.03, 38.74).value_or(""), "Africa/Addis_Ababa");
    EXPECT_FALSE(pf::zone_from_location(91.0, 0.0));
    EXPECT_FALSE(pf::zone_from_location(std::nan(""), 0.0));
}

TEST(ZoneFromLocation, TableParsing) {
    double lat = 0, lon = 0;
    ASSERT_TRUE(pf::parse_zone_tab_coordinates("+4852+00220", lat, lon));
    EXPECT_NEAR(lat, 48 + 52 / 60.0, 1e-9);
    EXPECT_NEAR(lon, 2 + 20 / 60.0, 1e-9);
    ASSERT_TRUE(pf::parse_zone_tab_coordinates("+404251-0740023", lat, lon));
    EXPECT_NEAR(lat, 40 + 42 / 60.0 + 51 / 3600.0, 1e-9);
    EXPECT_NEAR(lon, -(74 + 0 / 60.0 + 23 / 3600.0), 1e-9);
    EXPECT_FALSE(pf::parse_zone_tab_coordinates("+48+002", lat, lon));
    EXPECT_FALSE(pf::parse_zone_tab_coordinates("4852+00220", lat, lon));
    const std::string table =
        "# comment\n"
        "FR,MC\t+4852+00220\tEurope/Paris\n"
        "JP,AU\t+353916+1394441\tAsia/Tokyo\tEyre Bird Observatory\n"
        "XX\tgarbage\tBad/Row\n";
    EXPECT_EQ(pf::zone_from_location_in(table, 45.76, 4.84).value_or(""), "Europe/Paris");  // Lyon
    EXPECT_EQ(pf::zone_from_location_in(table, 34.69, 135.50).value_or(""), "Asia/Tokyo");  // Osaka
    EXPECT_EQ(pf::zone_from_location_in("", 45.76, 4.84), std::nullopt);
}

TEST(ZoneRules, UtcOnlyVideoTakesTheGpsZoneThenTheDefault) {
    pf::test::TempDir d;
    const std::string tokyo = box("udta", udta_text("\xA9xyz", "+35.6762+139.6503/"));
    const std::string berlin = box("udta", udta_text("\xA9xyz", "+52.5200+013.4050/"));
    ZoneCalls calls;
    // Tokyo: the callback knows the zone -> gps.
    auto f = read_file(d, "t.mp4", mp4(mvhd_v0(kMac + 1690907400u) + tokyo), zoned(&calls));
    EXPECT_EQ(f.date_source, "video_utc");
    EXPECT_EQ(calls.last, "Asia/Tokyo");
    EXPECT_EQ(f.zone_source, "gps");
    EXPECT_EQ(f.time_zone, "Asia/Tokyo");
    EXPECT_EQ(pf::time_zone_label(f), "gps:Asia/Tokyo");
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2023-08-02 01:30:00");  // 16:30 UTC + 9 h: next day
    EXPECT_EQ(*f.utc_offset_minutes, 540);
    EXPECT_EQ(*f.utc_epoch, 1690907400);
    // Berlin: the callback does not know the zone -> default zone, named.
    f = read_file(d, "b.mp4", mp4(mvhd_v0(kMac + 1690907400u) + berlin), zoned(&calls));
    EXPECT_EQ(calls.last, "Europe/Berlin");
    EXPECT_EQ(pf::time_zone_label(f), "default:Europe/Paris");
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2023-08-01 17:30:00");
    // No position: default, and no named zone asked for.
    int before = calls.named;
    f = read_file(d, "n.mp4", mp4(mvhd_v0(kMac + 1690907400u)), zoned(&calls));
    EXPECT_EQ(calls.named, before);
    EXPECT_EQ(pf::time_zone_label(f), "default:Europe/Paris");
    // GPS zones switched off.
    pf::ReadOptions o = zoned(&calls);
    o.zone_from_gps = false;
    f = read_file(d, "t2.mp4", mp4(mvhd_v0(kMac + 1690907400u) + tokyo), o);
    EXPECT_EQ(pf::time_zone_label(f), "default:Europe/Paris");
    // No callback at all: UTC.
    pf::ReadOptions bare;
    f = read_file(d, "t3.mp4", mp4(mvhd_v0(kMac + 1690907400u) + tokyo), bare);
    EXPECT_EQ(pf::time_zone_label(f), "default:UTC");
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2023-08-01 16:30:00");
}

TEST(ZoneRules, StillsKeepTheirOwnOffsetAndInstant) {
    pf::test::TempDir d;
    auto f = read_file(d, "a.jpg", jpeg(tiff_block(kTokyoTags), ""), zoned());
    EXPECT_EQ(f.date_source, "exif_original");
    EXPECT_EQ(pf::time_zone_label(f), "file");
    EXPECT_EQ(*f.utc_epoch, 1703475296);  // 12:34:56 +09:00 = 03:34:56 UTC
    // No offset in the file: a wall clock, no instant, no zone.
    f = read_file(d, "b.jpg", jpeg(tiff_block({{"Exif.Photo.DateTimeOriginal", "2023:12:25 12:34:56"}}), ""), zoned());
    EXPECT_EQ(f.zone_source, "");
    EXPECT_FALSE(f.utc_epoch);
    EXPECT_FALSE(f.utc_offset_minutes);
}

// ------------------------------------------------------------------ stills

TEST(Heif, OwnReaderFindsTheExifItem) {
    for (bool idat : {false, true}) {
        for (int version : {0, 1, 2}) {
            if (idat && version == 0) continue;  // construction methods need iloc v1+
            std::string file = heif(tiff_block(kTokyoTags), idat, version);
            pf::MemoryRandomAccess in(reinterpret_cast<const uint8_t*>(file.data()), file.size());
            auto m = pf::read_heif_metadata(in);
            ASSERT_FALSE(m.exif.empty()) << "idat=" << idat << " v" << version;
            EXPECT_EQ(m.exif.substr(0, 4), std::string("II*\0", 4));
            auto f = pf::read_exif_block(m.exif, m.xmp, kNow);
            ASSERT_TRUE(f.captured);
            EXPECT_EQ(pf::format_sql_timestamp(*f.captured), "2023-12-25 12:34:56.123");
            EXPECT_EQ(*f.offset_minutes, 540);
            ASSERT_TRUE(f.location);
            EXPECT_NEAR(f.location->lat, 35.6762, 1e-4);
        }
    }
}

TEST(Heif, ReadAssetFallsBackWhenExiv2FindsNothing) {
    pf::test::TempDir d;
    std::string file = heif(tiff_block(kTokyoTags), false);
    // The layout Exiv2 0.27.6 misreads (so this really exercises the fallback).
    EXPECT_FALSE(exiv2_only(file).captured);
    auto f = read_file(d, "IMG_0001.HEIC", file, zoned());
    EXPECT_EQ(f.type.format, "heic");
    EXPECT_EQ(f.date_source, "exif_original");
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2023-12-25 12:34:56.123");
    ASSERT_TRUE(f.location);
    // Also when the file is larger than the in-memory head (read through the descriptor).
    pf::ReadOptions small = zoned();
    small.head_bytes = 64;
    f = read_file(d, "IMG_0002.HEIC", file, small);
    EXPECT_EQ(f.date_source, "exif_original");
}

TEST(Heif, BrokenItemsAreErrorsNotCrashes) {
    std::string file = heif(tiff_block(kTokyoTags), false);
    for (size_t cut : {size_t(30), size_t(120), file.size() - 20}) {
        std::string t = file.substr(0, cut);
        pf::MemoryRandomAccess in(reinterpret_cast<const uint8_t*>(t.data()), t.size());
        EXPECT_NO_THROW(pf::read_heif_metadata(in));
    }
    std::string nometa = box("ftyp", std::string("heic") + be32(0)) + box("mdat", "x");
    pf::MemoryRandomAccess in(reinterpret_cast<const uint8_t*>(nometa.data()), nometa.size());
    auto m = pf::read_heif_metadata(in);
    EXPECT_TRUE(m.exif.empty());
    EXPECT_FALSE(m.errors.empty());
}

// The case NOTES.md describes: HEIC made by ImageMagick and tagged by exiftool.
TEST(Heif, ImageMagickHeicTaggedByExiftool) {
    if (std::system("convert -list format 2>/dev/null | grep -q '^ *HEIC.*rw' && command -v exiftool >/dev/null") != 0)
        GTEST_SKIP() << "ImageMagick with HEIC write support and exiftool are needed";
    pf::test::TempDir d;
    std::string path = d / "im.heic";
    std::string cmd = "convert -size 32x24 xc:blue '" + path + "' && exiftool -q -overwrite_original "
                      "'-DateTimeOriginal=2021:06:07 08:09:10' '-OffsetTimeOriginal=+02:00' "
                      "-GPSLatitude=48.8584 -GPSLatitudeRef=N -GPSLongitude=2.2945 -GPSLongitudeRef=E '" + path + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    std::string bytes = read_all(path);
    // Exiv2 0.27.6 alone reads nothing here: this is what the fallback is for.
    RecordProperty("exiv2_alone_finds_date", exiv2_only(bytes).captured ? "yes" : "no");
    auto f = read_file(d, "IMG_im.heic", bytes, zoned());
    EXPECT_EQ(f.date_source, "exif_original");
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2021-06-07 08:09:10");
    EXPECT_EQ(*f.utc_offset_minutes, 120);
    ASSERT_TRUE(f.location);
    EXPECT_NEAR(f.location->lon, 2.2945, 1e-4);
}

TEST(Png, ExifChunkAnywhere) {
    pf::test::TempDir d;
    std::string file = png(png_chunk("eXIf", tiff_block(kTokyoTags)));
    auto f = read_file(d, "shot.png", file, zoned());
    EXPECT_EQ(f.type.format, "png");
    EXPECT_EQ(f.date_source, "exif_original");
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2023-12-25 12:34:56.123");
    EXPECT_EQ(*f.utc_offset_minutes, 540);
    ASSERT_TRUE(f.location);
    std::string exif, xmp;
    pf::find_png_metadata(reinterpret_cast<const uint8_t*>(file.data()), file.size(), exif, xmp);
    EXPECT_EQ(exif.substr(0, 4), std::string("II*\0", 4));
    // XMP in an iTXt chunk.
    std::string itxt = std::string("XML:com.adobe.xmp\0\0\0\0\0", 22) +
                       xmp_packet("exif:DateTimeOriginal=\"2020-05-06T07:08:09+03:00\"");
    f = read_file(d, "x.png", png(png_chunk("iTXt", itxt)), zoned());
    EXPECT_EQ(f.date_source, "xmp");
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2020-05-06 07:08:09");
    EXPECT_EQ(*f.utc_offset_minutes, 180);
}

TEST(Gif, XmpApplicationExtension) {
    pf::test::TempDir d;
    std::string gif = std::string("GIF89a\x01\0\x01\0\0\0\0", 13) + "\x21\xFF\x0BXMP DataXMP" +
                      xmp_packet("exif:DateTimeOriginal=\"2019-01-02T03:04:05\"") + std::string(1, '\0') + "\x3B";
    auto f = read_file(d, "anim.gif", gif, zoned());
    EXPECT_EQ(f.type.format, "gif");
    EXPECT_EQ(f.date_source, "xmp");
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2019-01-02 03:04:05");
    // No metadata at all: name, then mtime.
    f = read_file(d, "Screenshot_2023-12-25-12-34-56.gif", std::string("GIF89a\x01\0\x01\0\0\0\0\x3B", 14), zoned());
    EXPECT_EQ(f.date_source, "filename");
}

TEST(SubSeconds, KeptFromExifAndFormattedForSql) {
    pf::test::TempDir d;
    auto f = read_file(d, "a.jpg",
                       jpeg(tiff_block({{"Exif.Photo.DateTimeOriginal", "2023:12:25 12:34:56"},
                                        {"Exif.Photo.SubSecTimeOriginal", "  5"}}),  // space-padded, as some cameras write
                            ""),
                       zoned());
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2023-12-25 12:34:56.5");
    f = read_file(d, "b.jpg",
                  jpeg(tiff_block({{"Exif.Photo.DateTimeOriginal", "2023:12:25 12:34:56"},
                                   {"Exif.Photo.SubSecTimeOriginal", "123456789"}}),
                       ""),
                  zoned());
    EXPECT_EQ(f.captured.nanosecond, 123456789);
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2023-12-25 12:34:56.123456");  // SQL keeps microseconds
    pf::LocalDateTime t;
    t.year = 2023;
    t.nanosecond = 1000;
    EXPECT_EQ(pf::format_sql_timestamp(t), "2023-01-01 00:00:00.000001");
}

TEST(MotionPhoto, OneImageAssetWithTheFact) {
    pf::test::TempDir d;
    const std::string video = mp4(mvhd_v0(kMac + 1690907400u));
    // Google: XMP GCamera:MotionPhoto="1", MP4 after the JPEG's EOI.
    auto f = read_file(d, "PXL_20231225_123456789.MP.jpg",
                       jpeg(tiff_block(kTokyoTags), xmp_packet("GCamera:MotionPhoto=\"1\" GCamera:MotionPhotoVersion=\"1\""),
                            video),
                       zoned());
    EXPECT_EQ(f.type.kind, pf::MediaKind::Image);
    EXPECT_EQ(f.type.format, "jpeg");
    EXPECT_TRUE(f.motion_photo);
    EXPECT_EQ(f.date_source, "exif_original");
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2023-12-25 12:34:56.123");
    // Older Google: MicroVideo as an element.
    std::string packet = xmp_packet("");
    packet.replace(packet.find("/></rdf:RDF>"), 2, "><GCamera:MicroVideo>1</GCamera:MicroVideo></rdf:Description>");
    f = read_file(d, "MVIMG_20190101_101010.jpg", jpeg("", packet, video), zoned());
    EXPECT_TRUE(f.motion_photo);
    EXPECT_EQ(f.date_source, "filename");
    // Samsung: marker before the MP4.
    f = read_file(d, "20231225_123456.jpg", jpeg(tiff_block(kTokyoTags), "", "MotionPhoto_Data" + video), zoned());
    EXPECT_TRUE(f.motion_photo);
    // Not a motion photo: version only, or nothing.
    f = read_file(d, "c.jpg", jpeg(tiff_block(kTokyoTags), xmp_packet("GCamera:MotionPhoto=\"0\"")), zoned());
    EXPECT_FALSE(f.motion_photo);
    f = read_file(d, "e.jpg", jpeg(tiff_block(kTokyoTags), ""), zoned());
    EXPECT_FALSE(f.motion_photo);
}

TEST(MediaTypes, RawsAndVideosAreRecognised) {
    auto sniff = [](const std::string& b, const char* name) {
        auto t = pf::sniff_media_type(reinterpret_cast<const uint8_t*>(b.data()), b.size(), name);
        return t ? t->format : std::string("-");
    };
    const std::string tiff_le("II*\0\x08\0\0\0", 8), tiff_be("MM\0*\0\0\0\x08", 8);
    EXPECT_EQ(sniff(tiff_le, "DSC_0001.NEF"), "nef");
    EXPECT_EQ(sniff(tiff_le, "DSC00001.ARW"), "arw");
    EXPECT_EQ(sniff(tiff_be, "IMG.dng"), "dng");
    EXPECT_EQ(sniff(std::string("IIRO\x08\0\0\0", 8), "P1010001.ORF"), "orf");
    EXPECT_EQ(sniff(std::string("IIU\0\x08\0\0\0", 8), "P1000001.RW2"), "rw2");
    EXPECT_EQ(sniff(box("ftyp", std::string("crx ") + be32(1) + "crx isom"), "IMG_0001.CR3"), "cr3");
    EXPECT_EQ(sniff(box("ftyp", std::string("mif1") + be32(0) + "mif1avif"), "a.avif"), "avif");
    EXPECT_EQ(sniff(box("ftyp", std::string("M4V ") + be32(0)), "a.m4v"), "m4v");
    EXPECT_EQ(sniff(box("ftyp", std::string("3gp5") + be32(0)), "a.3gp"), "3gp");
    EXPECT_EQ(sniff(std::string("RIFF\0\0\0\0AVI LIST", 16), "a.avi"), "avi");
    EXPECT_EQ(sniff(std::string("\x1a\x45\xdf\xa3", 4), "a.webm"), "webm");
}
