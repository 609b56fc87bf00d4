// Issue #11, camcorder and other video containers: AVI IDIT / strd EXIF /
// ICRD, Matroska DateUTC, ASF creation date, AVCHD MDPM in MPEG-TS, and the
// 3GP udta `date` and `loci` boxes. Containers are built byte by byte here.
#include <gtest/gtest.h>
#include <exiv2/exiv2.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/asset_reader.hpp"
#include "core/bmff_reader.hpp"
#include "core/exif_reader.hpp"
#include "core/video_containers.hpp"
#include "temp_dir.hpp"

namespace {

const int64_t kNow = 1764000000;  // 2025-11-24

std::string be16(uint16_t v) { return std::string{char(v >> 8), char(v)}; }
std::string be32(uint32_t v) { return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }
std::string le32(uint32_t v) { return std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)}; }
std::string le64(uint64_t v) { return le32(uint32_t(v)) + le32(uint32_t(v >> 32)); }

std::string chunk(const std::string& id, const std::string& body) {
    return id + le32(uint32_t(body.size())) + body + (body.size() % 2 ? std::string(1, '\0') : "");
}
std::string riff_list(const std::string& type, const std::string& body) { return chunk("LIST", type + body); }
std::string avi(const std::string& hdrl_extra, const std::string& tail = "") {
    std::string avih = chunk("avih", std::string(56, '\0'));
    std::string strl = riff_list("strl", chunk("strh", std::string(56, '\0')));
    std::string body = "AVI " + riff_list("hdrl", avih + strl + hdrl_extra) + tail + riff_list("movi", std::string(64, 'm'));
    return chunk("RIFF", body);
}

std::string tiff_block(std::initializer_list<std::pair<const char*, const char*>> tags) {
    pf::init_metadata_library();
    Exiv2::ExifData d;
    for (auto& kv : tags) d[kv.first] = kv.second;
    Exiv2::Blob blob;
    Exiv2::ExifParser::encode(blob, Exiv2::littleEndian, d);
    return std::string(blob.begin(), blob.end());
}

uint32_t rd32(const std::string& s, size_t at) {
    return uint32_t(uint8_t(s[at])) | uint32_t(uint8_t(s[at + 1])) << 8 | uint32_t(uint8_t(s[at + 2])) << 16 |
           uint32_t(uint8_t(s[at + 3])) << 24;
}
// A little-endian TIFF block (IFD0 at 8) as the IFD-relative block AVI strd
// chunks carry: the header dropped, every offset moved 8 back.
std::string shift_offsets(std::string t) {
    const int sizes[] = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8};
    std::vector<uint32_t> todo{rd32(t, 4)};
    std::vector<uint32_t> seen;
    while (!todo.empty()) {
        uint32_t ifd = todo.back();
        todo.pop_back();
        if (std::find(seen.begin(), seen.end(), ifd) != seen.end()) continue;
        seen.push_back(ifd);
        unsigned n = uint8_t(t[ifd]) | uint8_t(t[ifd + 1]) << 8;
        for (unsigned i = 0; i < n; i++) {
            size_t e = ifd + 2 + 12 * i;
            unsigned tag = uint8_t(t[e]) | uint8_t(t[e + 1]) << 8, type = uint8_t(t[e + 2]) | uint8_t(t[e + 3]) << 8;
            uint32_t count = rd32(t, e + 4), val = rd32(t, e + 8);
            bool sub = tag == 0x8769 || tag == 0x8825 || tag == 0xA005;
            if (sub) todo.push_back(val);
            if (sub || (type < 13 ? sizes[type] : 1) * count > 4) t.replace(e + 8, 4, le32(val - 8));
        }
        t.replace(ifd + 2 + 12 * n, 4, le32(0));
    }
    return t.substr(8);
}

pf::VideoFacts facts(pf::VideoFacts (*reader)(const pf::RandomAccess&), const std::string& b) {
    pf::MemoryRandomAccess in(reinterpret_cast<const uint8_t*>(b.data()), b.size());
    return reader(in);
}

std::string when(const std::optional<pf::LocalDateTime>& t) { return t ? pf::format_sql_timestamp(*t) : "none"; }

pf::AssetFacts read_file(const std::string& name, const std::string& bytes) {
    pf::test::TempDir d;
    d.write(name, bytes);
    pf::ReadOptions o;
    o.now_epoch = kNow;
    int fd = open((d / name).c_str(), O_RDONLY);
    EXPECT_GE(fd, 0);
    pf::AssetFacts f = pf::read_asset(fd, name, o);
    close(fd);
    return f;
}

}  // namespace

// ------------------------------------------------------------------ AVI

TEST(Avi, IditIsTheCamerasLocalTime) {
    std::string file = avi(chunk("IDIT", std::string("Mon Mar 10 15:04:43 2003\n\0", 26)));
    pf::VideoFacts v = facts(pf::read_avi_facts, file);
    EXPECT_EQ(when(v.camera_local), "2003-03-10 15:04:43");
    EXPECT_FALSE(v.camera_offset_minutes);
    pf::AssetFacts f = read_file("MVI_0001.AVI", file);
    EXPECT_EQ(f.type.format, "avi");
    EXPECT_EQ(f.date_source, "video_local");
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2003-03-10 15:04:43");
    EXPECT_FALSE(f.utc_offset_minutes);
    EXPECT_FALSE(f.utc_epoch);
}

TEST(Avi, VendorDateSpellings) {
    EXPECT_EQ(when(pf::parse_riff_date("Mon Mar 10 15:04:43 2003")), "2003-03-10 15:04:43");
    EXPECT_EQ(when(pf::parse_riff_date("2001/ 1/27  1:42PM")), "2001-01-27 13:42:00");
    EXPECT_EQ(when(pf::parse_riff_date("2005/11/28/ 09:19")), "2005-11-28 09:19:00");
    EXPECT_EQ(when(pf::parse_riff_date("2002-12-16  15:35:01\0\0")), "2002-12-16 15:35:01");
    EXPECT_EQ(when(pf::parse_riff_date("Thu Feb 30 10:00:00 2003")), "2003-02-30 10:00:00");  // read_asset's plausibility check refuses it
    EXPECT_EQ(when(pf::parse_riff_date("yesterday")), "none");
    EXPECT_EQ(when(pf::parse_riff_date("Mon Xyz 10 15:04:43 2003")), "none");
}

TEST(Avi, StrdExifBlockWithOffsetAndGps) {
    // strd "AVIF": an EXIF IFD0 at offset 8 whose offsets count from the IFD itself.
    std::string ifd = shift_offsets(tiff_block({{"Exif.Photo.DateTimeOriginal", "2012:03:04 05:06:07"},
                                                {"Exif.Photo.OffsetTimeOriginal", "+09:00"},
                                                {"Exif.GPSInfo.GPSLatitudeRef", "N"},
                                                {"Exif.GPSInfo.GPSLatitude", "35/1 40/1 3432/100"},
                                                {"Exif.GPSInfo.GPSLongitudeRef", "E"},
                                                {"Exif.GPSInfo.GPSLongitude", "139/1 39/1 98/100"}}));
    std::string strd = chunk("strd", "AVIF" + le32(0) + ifd);
    std::string file = chunk("RIFF", "AVI " + riff_list("hdrl", chunk("avih", std::string(56, '\0')) +
                                                                    riff_list("strl", chunk("strh", std::string(56, '\0')) + strd)));
    pf::VideoFacts v = facts(pf::read_avi_facts, file);
    EXPECT_EQ(when(v.camera_local), "2012-03-04 05:06:07");
    EXPECT_EQ(v.camera_offset_minutes.value_or(-1), 540);
    ASSERT_TRUE(v.location);
    EXPECT_NEAR(v.location->lat, 35.6762, 1e-4);
    pf::AssetFacts f = read_file("clip.avi", file);
    EXPECT_EQ(f.zone_source, "file");
    EXPECT_EQ(f.utc_offset_minutes.value_or(-1), 540);
}

TEST(Avi, InfoCreationDateOnlyWithATime) {
    std::string info = riff_list("INFO", chunk("ICRD", std::string("2021-06-07T08:09:10\0", 20)));
    EXPECT_EQ(when(facts(pf::read_avi_facts, avi("", info)).camera_local), "2021-06-07 08:09:10");
    info = riff_list("INFO", chunk("ICRD", std::string("2021-06-07\0", 11)));
    EXPECT_EQ(when(facts(pf::read_avi_facts, avi("", info)).camera_local), "none");
    // IDIT wins over ICRD.
    info = riff_list("INFO", chunk("ICRD", std::string("2021-06-07T08:09:10\0", 20)));
    EXPECT_EQ(when(facts(pf::read_avi_facts, avi(chunk("IDIT", "Sat Jan 01 12:00:00 2011"), info)).camera_local),
              "2011-01-01 12:00:00");
}

TEST(Avi, TruncatedAndHostileChunks) {
    std::string file = avi(chunk("IDIT", "Mon Mar 10 15:04:43 2003"));
    for (size_t cut = 0; cut < file.size(); cut += 7) (void)facts(pf::read_avi_facts, file.substr(0, cut));
    // A chunk claiming 4 GB inside a small file.
    std::string huge = "RIFF" + le32(100) + "AVI " + "LIST" + le32(0xFFFFFFF0u) + "hdrl" + chunk("IDIT", "x");
    pf::VideoFacts v = facts(pf::read_avi_facts, huge);
    EXPECT_FALSE(v.errors.empty());
}

// ------------------------------------------------------------------ Matroska

namespace {
std::string ebml_size(uint64_t n) {  // 8-byte size vint
    std::string s(1, char(0x01));
    for (int i = 6; i >= 0; i--) s += char(n >> (8 * i));
    return s;
}
std::string el(uint32_t id, const std::string& body) {
    std::string s;
    for (int shift = 24; shift >= 0; shift -= 8)
        if ((id >> shift) != 0 || !s.empty()) s += char(id >> shift);
    return s + ebml_size(body.size()) + body;
}
std::string mkv(const std::string& segment_body, bool unknown_size = false) {
    std::string header = el(0x1A45DFA3, el(0x4282, "matroska"));
    std::string seg = unknown_size ? std::string("\x18\x53\x80\x67\x01\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 12) + segment_body
                                   : el(0x18538067, segment_body);
    return header + seg;
}
std::string date_utc(int64_t unix_seconds) {
    int64_t ns = (unix_seconds - 978307200) * 1000000000LL;
    std::string b;
    for (int i = 7; i >= 0; i--) b += char(uint64_t(ns) >> (8 * i));
    return el(0x4461, b);
}
}  // namespace

TEST(Matroska, DateUtcInInfo) {
    std::string info = el(0x1549A966, el(0x2AD7B1, std::string("\x0F\x42\x40", 3)) + date_utc(1623053350));
    for (bool unknown : {false, true}) {
        pf::VideoFacts v = facts(pf::read_matroska_facts, mkv(el(0x114D9B74, "") + info, unknown));
        ASSERT_TRUE(v.creation_utc_epoch);
        EXPECT_EQ(*v.creation_utc_epoch, 1623053350);
    }
    // Before 2001: a negative DateUTC.
    pf::VideoFacts v = facts(pf::read_matroska_facts, mkv(el(0x1549A966, date_utc(946684800))));
    EXPECT_EQ(v.creation_utc_epoch.value_or(0), 946684800);
    // Info after a cluster of known size is still found; zero means unset.
    v = facts(pf::read_matroska_facts, mkv(el(0x1F43B675, std::string(500, 'c')) + info));
    EXPECT_EQ(v.creation_utc_epoch.value_or(0), 1623053350);
    v = facts(pf::read_matroska_facts, mkv(el(0x1549A966, el(0x4461, std::string(8, '\0')))));
    EXPECT_FALSE(v.creation_utc_epoch);
    pf::AssetFacts f = read_file("clip.webm", mkv(info));
    EXPECT_EQ(f.type.format, "webm");
    EXPECT_EQ(f.date_source, "video_utc");
    EXPECT_EQ(f.utc_epoch.value_or(0), 1623053350);
}

TEST(Matroska, TruncatedAndHostile) {
    std::string file = mkv(el(0x1549A966, date_utc(1623053350)));
    for (size_t cut = 0; cut < file.size(); cut++) (void)facts(pf::read_matroska_facts, file.substr(0, cut));
    std::string bad = mkv(std::string("\x15\x49\xA9\x66\x01\xFF\xFF\xFF\xFF\xFF\xFF\xFE", 12) + date_utc(1));
    (void)facts(pf::read_matroska_facts, bad);
}

// ------------------------------------------------------------------ ASF

namespace {
const std::string kAsfHeader("\x30\x26\xB2\x75\x8E\x66\xCF\x11\xA6\xD9\x00\xAA\x00\x62\xCE\x6C", 16);
const std::string kFileProps("\xA1\xDC\xAB\x8C\x47\xA9\xCF\x11\x8E\xE4\x00\xC0\x0C\x20\x53\x65", 16);
std::string asf(uint64_t filetime) {
    std::string props_body = std::string(16, 'i') + le64(4096) + le64(filetime) + std::string(48, '\0');
    std::string other = std::string(16, 'x') + le64(24 + 8) + std::string(8, 'o');
    std::string props = kFileProps + le64(24 + props_body.size()) + props_body;
    std::string objects = other + props;
    return kAsfHeader + le64(30 + objects.size()) + le32(2) + std::string("\x01\x02", 2) + objects + std::string(50, 'd');
}
}  // namespace

TEST(Asf, FilePropertiesCreationDate) {
    uint64_t ft = (1623053350ULL + 11644473600ULL) * 10000000ULL;
    pf::VideoFacts v = facts(pf::read_asf_facts, asf(ft));
    EXPECT_EQ(v.creation_utc_epoch.value_or(0), 1623053350);
    EXPECT_FALSE(facts(pf::read_asf_facts, asf(0)).creation_utc_epoch);
    pf::AssetFacts f = read_file("clip.wmv", asf(ft));
    EXPECT_EQ(f.type.format, "wmv");
    EXPECT_EQ(f.date_source, "video_utc");
    std::string file = asf(ft);
    for (size_t cut = 0; cut < file.size(); cut += 3) (void)facts(pf::read_asf_facts, file.substr(0, cut));
}

// ------------------------------------------------------------------ AVCHD (MPEG-TS)

namespace {
// H.264 emulation prevention: 00 00 0x (x <= 3) becomes 00 00 03 0x.
std::string escape(const std::string& raw) {
    std::string out;
    int zeros = 0;
    for (char c : raw) {
        if (zeros >= 2 && uint8_t(c) <= 3) {
            out += '\x03';
            zeros = 0;
        }
        out += c;
        zeros = c == 0 ? zeros + 1 : 0;
    }
    return out;
}
std::string mdpm_sei(const std::string& entries, int count) {
    std::string payload = std::string("\x17\xee\x8c\x60\xf8\x4d\x11\xd9\x8c\xd6\x08\x00\x20\x0c\x9a\x66MDPM", 20) +
                          char(count) + entries;
    std::string sei = std::string("\x05", 1) + char(payload.size()) + payload + "\x80";
    return std::string("\0\0\0\x01\x09\xf0\0\0\0\x01\x06", 11) + escape(sei) + std::string("\0\0\0\x01\x65", 5) +
           std::string(300, 'v');
}
// PES payload of one PID cut into transport packets (a 4-byte timecode first when m2ts).
std::string transport(const std::string& es, bool m2ts) {
    std::string pes = std::string("\0\0\x01\xe0\0\0\x80\0\0", 9) + es, out;
    std::string pat(188, '\xff');
    pat.replace(0, 4, std::string("\x47\x40\x00\x10", 4));
    auto put = [&](const std::string& p) { out += (m2ts ? std::string(4, '\0') : "") + p; };
    put(pat);
    for (size_t off = 0, n = 0; off < pes.size(); off += 184, n++) {
        std::string p = std::string("\x47", 1) + char(off == 0 ? 0x50 : 0x10) + char(0x11) + char(0x10 | (n & 15));
        std::string part = pes.substr(off, 184);
        p += part + std::string(184 - part.size(), '\xff');
        put(p);
    }
    while (out.size() < (m2ts ? 192u : 188u) * 5) put(pat);
    return out;
}
std::string entry(int tag, const std::string& four) { return char(tag) + four; }
}  // namespace

TEST(Avchd, MdpmDateZoneAndGps) {
    std::string entries = entry(0x18, std::string("\x23\x20\x21\x06", 4)) +   // zone 0x23: -1:30, 2021-06
                          entry(0x19, std::string("\x07\x08\x09\x00", 4)) +   // 07 08:09:00
                          entry(0xb1, std::string("N\0\0\0", 4)) + entry(0xb2, be16(35) + be16(1)) +
                          entry(0xb3, be16(40) + be16(1)) + entry(0xb4, be16(3432) + be16(100)) +
                          entry(0xb5, std::string("W\0\0\0", 4)) + entry(0xb6, be16(139) + be16(1)) +
                          entry(0xb7, be16(39) + be16(1)) + entry(0xb8, be16(98) + be16(100));
    // A long filler NAL first pushes the SEI across packet boundaries.
    std::string es = std::string("\0\0\0\x01\x0c", 5) + std::string(170, '\xff') + mdpm_sei(entries, 10);
    for (bool m2ts : {false, true}) {
        SCOPED_TRACE(m2ts ? "m2ts" : "ts");
        std::string file = transport(es, m2ts);
        pf::VideoFacts v = facts(pf::read_mpegts_facts, file);
        EXPECT_EQ(when(v.camera_local), "2021-06-07 08:09:00");
        EXPECT_EQ(v.camera_offset_minutes.value_or(0), -90);
        ASSERT_TRUE(v.location);
        EXPECT_NEAR(v.location->lat, 35 + 40 / 60.0 + 34.32 / 3600, 1e-7);
        EXPECT_NEAR(v.location->lon, -(139 + 39 / 60.0 + 0.98 / 3600), 1e-7);
        pf::AssetFacts f = read_file(m2ts ? "00001.MTS" : "clip.ts", file);
        EXPECT_EQ(f.type.format, "mts");
        EXPECT_EQ(f.date_source, "video_local");
        EXPECT_EQ(f.zone_source, "file");
        for (size_t cut = 0; cut < file.size(); cut += 61) (void)facts(pf::read_mpegts_facts, file.substr(0, cut));
    }
    // Without MDPM: recognised, dated by the file name.
    pf::AssetFacts f = read_file("20200102_030405.MTS", transport(std::string(400, '\xff'), true));
    EXPECT_EQ(f.type.format, "mts");
    EXPECT_EQ(f.date_source, "filename");
}

// ------------------------------------------------------------------ 3GP udta

namespace {
std::string box(const std::string& type, const std::string& body) { return be32(uint32_t(8 + body.size())) + type + body; }
std::string mp4_udta(const std::string& udta_body) {
    std::string mvhd = box("mvhd", std::string(4, '\0') + be32(0) + be32(0) + be32(1000) + be32(5000) + std::string(80, '\0'));
    return box("ftyp", std::string("3gp5") + be32(0) + "3gp5isom") + box("moov", mvhd + box("udta", udta_body));
}
std::string loci(const std::string& name, double lat, double lon) {
    auto fixed = [](double v) { return be32(uint32_t(int32_t(v * 65536))); };
    return box("loci", std::string(4, '\0') + be16(0x15c7) + name + std::string(2, '\0') /* NUL, role */ + fixed(lon) + fixed(lat) +
                           fixed(10) + std::string("earth\0\0", 7));
}
}  // namespace

TEST(ThreeGp, UdtaDateAndLoci) {
    std::string file = mp4_udta(box("date", "2011-01-01T12:00:00+0100") + loci("Home", 48.8584, 2.2945));
    pf::VideoFacts v = facts(pf::read_video_facts, file);
    EXPECT_EQ(when(v.day_local), "2011-01-01 12:00:00");
    EXPECT_EQ(v.day_offset_minutes.value_or(0), 60);
    ASSERT_TRUE(v.location);
    EXPECT_NEAR(v.location->lat, 48.8584, 2e-5);
    EXPECT_NEAR(v.location->lon, 2.2945, 2e-5);
    pf::AssetFacts f = read_file("clip.3gp", file);
    EXPECT_EQ(f.date_source, "video_local");
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2011-01-01 12:00:00");
    // A UTF-16 name (BOM, two NULs at its end); a Southern/Western position.
    std::string utf16 = std::string("\xFE\xFF\0H\0o", 6) + std::string(1, '\0');
    file = mp4_udta(loci(utf16, -22.9068, -43.1729));
    v = facts(pf::read_video_facts, file);
    ASSERT_TRUE(v.location);
    EXPECT_NEAR(v.location->lat, -22.9068, 2e-5);
    EXPECT_NEAR(v.location->lon, -43.1729, 2e-5);
    for (size_t cut = 0; cut < file.size(); cut += 5) (void)facts(pf::read_video_facts, file.substr(0, cut));
}
