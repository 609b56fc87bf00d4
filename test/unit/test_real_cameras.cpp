// Issue #11 "Real cameras, not fixtures": unsigned GPS rationals, the date
// ranking across EXIF/XMP/IPTC, unreadable XMP as an error, length-aware
// magic numbers, the page of a multi-page TIFF that dates it, and the RAW
// families whose container Exiv2 reads partly or not at all (CR3, X3F).
#include <gtest/gtest.h>
#include <exiv2/exiv2.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/asset_reader.hpp"
#include "core/bmff_reader.hpp"
#include "core/exif_reader.hpp"
#include "core/media_type.hpp"
#include "temp_dir.hpp"

namespace {

const int64_t kNow = 1764000000;  // 2025-11-24

std::string be16(uint16_t v) { return std::string{char(v >> 8), char(v)}; }
std::string be32(uint32_t v) { return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }
std::string le16(uint16_t v) { return std::string{char(v), char(v >> 8)}; }
std::string le32(uint32_t v) { return std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)}; }

std::string tiff_block(std::initializer_list<std::pair<const char*, const char*>> tags) {
    pf::init_metadata_library();
    Exiv2::ExifData d;
    for (auto& kv : tags) d[kv.first] = kv.second;
    Exiv2::Blob blob;
    Exiv2::ExifParser::encode(blob, Exiv2::littleEndian, d);
    return std::string(blob.begin(), blob.end());
}

std::string xmp_packet(const std::string& attrs) {
    return "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>"
           "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
           "<rdf:Description rdf:about=\"\" xmlns:exif=\"http://ns.adobe.com/exif/1.0/\" "
           "xmlns:photoshop=\"http://ns.adobe.com/photoshop/1.0/\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" " +
           attrs + "/></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>";
}

// IPTC-IIM datasets 2:55 DateCreated and 2:60 TimeCreated in a Photoshop APP13.
std::string iptc_app13(const std::string& date, const std::string& time) {
    auto dataset = [](uint8_t tag, const std::string& v) {
        return std::string{0x1C, 0x02, char(tag)} + be16(uint16_t(v.size())) + v;
    };
    std::string iptc;
    if (!date.empty()) iptc += dataset(55, date);
    if (!time.empty()) iptc += dataset(60, time);
    if (iptc.size() % 2) iptc += '\0';
    std::string irb = std::string("8BIM") + be16(0x0404) + std::string(2, '\0') + be32(uint32_t(iptc.size())) + iptc;
    std::string seg = std::string("Photoshop 3.0\0", 14) + irb;
    return std::string("\xFF\xED", 2) + be16(uint16_t(seg.size() + 2)) + seg;
}

std::string jpeg(const std::string& tiff, const std::string& xmp, const std::string& app13 = "") {
    std::string j("\xFF\xD8", 2);
    if (!tiff.empty()) {
        std::string seg = std::string("Exif\0\0", 6) + tiff;
        j += std::string("\xFF\xE1", 2) + be16(uint16_t(seg.size() + 2)) + seg;
    }
    if (!xmp.empty()) {
        std::string seg = std::string("http://ns.adobe.com/xap/1.0/\0", 29) + xmp;
        j += std::string("\xFF\xE1", 2) + be16(uint16_t(seg.size() + 2)) + seg;
    }
    j += app13;
    return j + std::string("\xFF\xD9", 2);
}

pf::ImageFacts read_bytes(const std::string& b) {
    pf::init_metadata_library();
    return pf::read_image_facts(reinterpret_cast<const uint8_t*>(b.data()), b.size(), kNow);
}

std::string when(const pf::ImageFacts& f) { return f.captured ? pf::format_sql_timestamp(*f.captured) : "none"; }

}  // namespace

// ------------------------------------------------------------------ bug 1: unsigned GPS

TEST(UnsignedRationals, GpsSecondsAbove2To31AreNotNegative) {
    // iPhone style: seconds with a numerator above 2^31 (2564660003 > 2147483648).
    std::string tiff = tiff_block({{"Exif.Photo.DateTimeOriginal", "2024:05:06 07:08:09"},
                                   {"Exif.GPSInfo.GPSLatitudeRef", "N"},
                                   {"Exif.GPSInfo.GPSLatitude", "37/1 46/1 2564660003/100000000"},
                                   {"Exif.GPSInfo.GPSLongitudeRef", "W"},
                                   {"Exif.GPSInfo.GPSLongitude", "122/1 25/1 4000000000/100000000"}});
    for (const pf::ImageFacts& f : {pf::read_exif_block(tiff, "", kNow), read_bytes(jpeg(tiff, ""))}) {
        ASSERT_TRUE(f.location);
        EXPECT_NEAR(f.location->lat, 37 + 46 / 60.0 + 25.64660003 / 3600, 1e-7);
        EXPECT_NEAR(f.location->lon, -(122 + 25 / 60.0 + 40.0 / 3600), 1e-7);
    }
}

TEST(UnsignedRationals, GpsWrittenAsTextIsReadAsExiftoolReadsIt) {
    // HTC phones: ASCII "52,00000,50,00000,34,01180" -> 52 deg 0' 50" (the first three numbers).
    pf::init_metadata_library();
    Exiv2::ExifData d;
    d["Exif.Photo.DateTimeOriginal"] = "2015:01:01 00:00:00";
    d["Exif.GPSInfo.GPSLatitudeRef"] = "N";
    d["Exif.GPSInfo.GPSLongitudeRef"] = "E";
    Exiv2::AsciiValue lat("52,00000,50,00000,34,01180"), lon("11,00000,10,00000,58,28360");
    d.add(Exiv2::ExifKey("Exif.GPSInfo.GPSLatitude"), &lat);
    d.add(Exiv2::ExifKey("Exif.GPSInfo.GPSLongitude"), &lon);
    Exiv2::Blob blob;
    Exiv2::ExifParser::encode(blob, Exiv2::littleEndian, d);
    pf::ImageFacts f = pf::read_exif_block(std::string(blob.begin(), blob.end()), "", kNow);
    ASSERT_TRUE(f.location);
    EXPECT_NEAR(f.location->lat, 52 + 50 / 3600.0, 1e-7);
    EXPECT_NEAR(f.location->lon, 11 + 10 / 3600.0, 1e-7);
}

// ------------------------------------------------------------------ bug 2: date ranking

TEST(DateRanking, CreationDatesOfEveryBlockBeatModifyDate) {
    const std::string modify = tiff_block({{"Exif.Image.DateTime", "2020:01:02 03:04:05"}});
    struct Case {
        const char* name;
        std::string xmp, app13;
        const char* expected;
        const char* source;
        int offset;  // -1: none
    } cases[] = {
        {"xmp exif:DateTimeOriginal", xmp_packet("exif:DateTimeOriginal=\"2019-05-06T07:08:09+02:00\""), "",
         "2019-05-06 07:08:09", "xmp", 120},
        {"photoshop:DateCreated", xmp_packet("photoshop:DateCreated=\"2016-09-10T11:12:13\""), "",
         "2016-09-10 11:12:13", "xmp", -1},
        {"xmp:CreateDate", xmp_packet("xmp:CreateDate=\"2015-01-02T03:04\""), "", "2015-01-02 03:04:00", "xmp", -1},
        {"IPTC date+time", "", iptc_app13("20140304", "050607+0130"), "2014-03-04 05:06:07", "iptc", 90},
        {"IPTC date only", "", iptc_app13("20140304", ""), "2014-03-04 00:00:00", "iptc", -1},
        // A date-only creation date takes the time of IPTC TimeCreated ...
        {"xmp date + IPTC time", xmp_packet("photoshop:DateCreated=\"2013-07-08\""), iptc_app13("", "091011-0500"),
         "2013-07-08 09:10:11", "xmp", -300},
        {"modify date alone", "", "", "2020-01-02 03:04:05", "exif_image", -1},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        pf::ImageFacts f = read_bytes(jpeg(modify, c.xmp, c.app13));
        EXPECT_EQ(when(f), c.expected);
        EXPECT_EQ(f.date_source, c.source);
        EXPECT_EQ(f.offset_minutes.value_or(-1), c.offset);
        EXPECT_TRUE(f.errors.empty()) << f.errors.front();
    }
}

TEST(DateRanking, DateOnlyTakesTheTimeOfALaterCandidateOnTheSameDay) {
    std::string xmp = xmp_packet("photoshop:DateCreated=\"2020-01-02\"");
    pf::ImageFacts f = read_bytes(jpeg(tiff_block({{"Exif.Image.DateTime", "2020:01:02 03:04:05"}}), xmp));
    EXPECT_EQ(when(f), "2020-01-02 03:04:05");
    EXPECT_EQ(f.date_source, "xmp");
    // Another day's save time says nothing about this day: midnight.
    f = read_bytes(jpeg(tiff_block({{"Exif.Image.DateTime", "2021:01:02 03:04:05"}}), xmp));
    EXPECT_EQ(when(f), "2020-01-02 00:00:00");
    EXPECT_EQ(f.date_source, "xmp");
}

TEST(DateRanking, ExifOriginalAndDigitizedStillComeFirst) {
    std::string xmp = xmp_packet("photoshop:DateCreated=\"2016-09-10T11:12:13\"");
    std::string app13 = iptc_app13("20140304", "050607+0000");
    pf::ImageFacts f = read_bytes(jpeg(tiff_block({{"Exif.Image.DateTime", "2020:01:02 03:04:05"},
                                                   {"Exif.Photo.DateTimeDigitized", "2010:10:10 10:10:10"}}),
                                       xmp, app13));
    EXPECT_EQ(when(f), "2010-10-10 10:10:10");
    EXPECT_EQ(f.date_source, "exif_digitized");
    f = read_bytes(jpeg(tiff_block({{"Exif.Photo.DateTimeOriginal", "2009:09:09 09:09:09"},
                                    {"Exif.Photo.DateTimeDigitized", "2010:10:10 10:10:10"}}),
                        xmp, app13));
    EXPECT_EQ(when(f), "2009-09-09 09:09:09");
    EXPECT_EQ(f.date_source, "exif_original");
}

// ------------------------------------------------------------------ bug 3: unreadable XMP

TEST(UnreadableXmp, IsAnErrorAndTheOtherBlocksAreStillUsed) {
    std::string broken = "<?xpacket begin=\"\"?><x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF><oops></x:xmpmeta>";
    pf::ImageFacts f = read_bytes(jpeg(tiff_block({{"Exif.Photo.DateTimeOriginal", "2022:02:02 02:02:02"}}), broken));
    EXPECT_EQ(when(f), "2022-02-02 02:02:02");
    EXPECT_EQ(f.date_source, "exif_original");
    ASSERT_FALSE(f.errors.empty());
    EXPECT_NE(f.errors.front().find("XMP"), std::string::npos);
    // The same through our own block reader.
    f = pf::read_exif_block(tiff_block({{"Exif.Image.DateTime", "2022:02:02 02:02:02"}}), broken, kNow);
    EXPECT_EQ(when(f), "2022-02-02 02:02:02");
    EXPECT_FALSE(f.errors.empty());
    // A well-formed packet is no error.
    f = read_bytes(jpeg("", xmp_packet("xmp:CreateDate=\"2015-01-02T03:04:05\"")));
    EXPECT_TRUE(f.errors.empty());
}

// ------------------------------------------------------------------ bug 4: magic numbers

namespace {
std::string sniff(const std::string& b, const char* name = "file") {
    auto t = pf::sniff_media_type(reinterpret_cast<const uint8_t*>(b.data()), b.size(), name);
    return t ? t->format : std::string("-");
}
std::string ts_packets(size_t packet, size_t count) {
    std::string s;
    for (size_t i = 0; i < count; i++) {
        std::string p(packet, '\xff');
        p[packet == 192 ? 4 : 0] = 0x47;
        s += p;
    }
    return s;
}
}  // namespace

TEST(MagicNumbers, TextStartingLikeTiffIsNotATiff) {
    EXPECT_EQ(sniff("MMM meeting notes\nagenda: ...", "notes.tif"), "-");
    EXPECT_EQ(sniff("II* is not enough either", "notes.tif"), "-");
    EXPECT_EQ(sniff("IIU and more text", "notes.rw2"), "-");
}

TEST(MagicNumbers, EverySignatureAndItsOneByteOffTwin) {
    const std::string pad(400, '\0');
    struct Sig {
        std::string bytes;
        const char* name;
        const char* format;
        size_t flip;  // the byte changed for the negative
    } sigs[] = {
        {std::string("\xFF\xD8\xFF\xE0", 4), "a.jpg", "jpeg", 2},
        {std::string("\x89PNG\r\n\x1a\n", 8), "a.png", "png", 7},
        {"GIF89a", "a.gif", "gif", 5},
        {"GIF87a", "a.gif", "gif", 4},
        {std::string("RIFF\0\0\0\0WEBPVP8 ", 16), "a.webp", "webp", 11},
        {std::string("RIFF\0\0\0\0AVI LIST", 16), "a.avi", "avi", 11},
        {std::string("\x1a\x45\xdf\xa3", 4), "a.mkv", "mkv", 3},
        {std::string("II*\0\x08\0\0\0", 8), "a.tif", "tiff", 3},
        {std::string("MM\0*\0\0\0\x08", 8), "a.tif", "tiff", 3},
        {std::string("II*\0\x10\0\0\0CR\x02\0", 12), "a.cr2", "cr2", 3},
        {std::string("IIRO\x08\0\0\0", 8), "a.orf", "orf", 3},
        {std::string("IIU\0\x08\0\0\0", 8), "a.rw2", "rw2", 3},
        {"FUJIFILMCCD-RAW 0201", "a.raf", "raf", 14},
        {std::string("II\x1a\0\0\0HEAPCCDR", 14), "a.crw", "crw", 13},
        {std::string("MM\0\0\0\x1aHEAPCCDR", 14), "a.crw", "crw", 6},
        {"FOVb\x00\x00\x02\x00", "a.x3f", "x3f", 3},
        {std::string("\0MRM\0\0\0\0", 8), "a.mrw", "mrw", 3},
        {std::string("\x30\x26\xB2\x75\x8E\x66\xCF\x11\xA6\xD9\x00\xAA\x00\x62\xCE\x6C", 16), "a.wmv", "wmv", 15},
        {std::string("\0\0\0\x14" "ftypheic\0\0\0\0", 16), "a.heic", "heic", 5},
        {std::string("\0\0\0\x14" "ftypqt  \0\0\0\0", 16), "a.mov", "mov", 5},
        {ts_packets(188, 4), "a.ts", "mts", 188},
        {ts_packets(192, 4), "a.MTS", "mts", 196},
    };
    for (const Sig& s : sigs) {
        SCOPED_TRACE(s.name + std::string(" ") + s.format);
        std::string good = s.bytes + pad;
        EXPECT_EQ(sniff(good, s.name), s.format);
        std::string bad = good;
        bad[s.flip] = char(bad[s.flip] ^ 0x01);
        EXPECT_NE(sniff(bad, s.name), s.format);
        // Cut short inside the signature: never matched on a prefix.
        EXPECT_NE(sniff(s.bytes.substr(0, s.flip), s.name), s.format);
    }
    EXPECT_EQ(sniff(std::string("\x30\x26\xB2\x75\x8E\x66\xCF\x11\xA6\xD9\x00\xAA\x00\x62\xCE\x6C", 16) + pad, "a.asf"), "asf");
    EXPECT_EQ(sniff(std::string("\x30\x26\xB2\x75\x8E\x66\xCF\x11\xA6\xD9\x00\xAA\x00\x62\xCE\x6C", 16) + pad, "song.wma"), "-");
    EXPECT_EQ(sniff(ts_packets(188, 3), "short.ts"), "-");  // three packets are not yet a stream
}

// ------------------------------------------------------------------ gap 8: multi-page TIFF

TEST(MultiPageTiff, TheFirstPageDatesTheFile) {
    // Two IFDs (pages), each with its own DateTime; ImageWidth so each is a page.
    auto ifd = [](uint32_t at, const std::string& date, uint32_t next) {
        std::string b = le16(2);
        b += le16(0x0100) + le16(3) + le32(1) + le32(64);                     // ImageWidth SHORT 64
        b += le16(0x0132) + le16(2) + le32(20) + le32(at + 2 + 2 * 12 + 4);   // DateTime ASCII[20]
        b += le32(next);
        return b + date + std::string(1, '\0');
    };
    const uint32_t first = 8, second = first + 2 + 24 + 4 + 20;
    std::string tiff = std::string("II*\0", 4) + le32(first) + ifd(first, "2001:01:01 01:01:01", second) +
                       ifd(second, "2002:02:02 02:02:02", 0);
    pf::ImageFacts f = read_bytes(tiff);
    EXPECT_EQ(when(f), "2001-01-01 01:01:01");
    EXPECT_EQ(f.date_source, "exif_image");
    // A second page's date does not date a file whose first page has none.
    std::string undated_first = std::string("II*\0", 4) + le32(first) + ifd(first, "0000:00:00 00:00:00", second) +
                                ifd(second, "2002:02:02 02:02:02", 0);
    f = read_bytes(undated_first);
    EXPECT_FALSE(f.captured);
}

// ------------------------------------------------------------------ gap 6: RAW families

namespace {
std::string box(const std::string& type, const std::string& body) { return be32(uint32_t(8 + body.size())) + type + body; }

// A TIFF block whose IFD0 holds the given tags with their own types (CR3's CMT blocks).
std::string cmt_block(const std::vector<std::pair<uint16_t, const Exiv2::Value*>>& tags) {
    pf::init_metadata_library();
    Exiv2::ExifData d;
    for (auto& t : tags) d.add(Exiv2::ExifKey(t.first, "Image"), t.second);
    Exiv2::Blob blob;
    Exiv2::ExifParser::encode(blob, Exiv2::littleEndian, d);
    return std::string(blob.begin(), blob.end());
}

pf::AssetFacts read_named(const std::string& name, const std::string& bytes) {
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

TEST(RawFamilies, Cr3CmtBoxesThroughOurOwnWalker) {
    Exiv2::AsciiValue make("Canon"), dto("2022:08:09 10:11:12"), off("-03:00"), lat_ref("S"), lon_ref("W");
    Exiv2::URationalValue lat, lon;
    lat.read("22/1 54/1 2448/100");
    lon.read("43/1 10/1 2244/100");
    std::string cmt1 = cmt_block({{0x010f, &make}});
    std::string cmt2 = cmt_block({{0x9003, &dto}, {0x9011, &off}});
    std::string cmt4 = cmt_block({{0x0001, &lat_ref}, {0x0002, &lat}, {0x0003, &lon_ref}, {0x0004, &lon}});
    std::string uuid("\x85\xc0\xb6\x87\x82\x0f\x11\xe0\x81\x11\xf4\xce\x46\x2b\x6a\x48", 16);
    std::string moov = box("moov", box("uuid", uuid + box("CNCV", "CanonCR3_001/01.09.00/00.00.00") + box("CMT1", cmt1) +
                                                   box("CMT2", cmt2) + box("CMT3", std::string(32, '\0')) +
                                                   box("CMT4", cmt4)));
    std::string file = box("ftyp", std::string("crx ") + be32(1) + "crx isom") + moov + box("mdat", std::string(64, 'r'));
    pf::Cr3Metadata m = pf::read_cr3_metadata(pf::MemoryRandomAccess(reinterpret_cast<const uint8_t*>(file.data()), file.size()));
    ASSERT_FALSE(m.exif.empty());
    pf::ImageFacts f = pf::read_cr3_blocks(m.ifd0, m.exif, m.gps, kNow);
    EXPECT_EQ(when(f), "2022-08-09 10:11:12");
    EXPECT_EQ(f.date_source, "exif_original");
    EXPECT_EQ(f.offset_minutes.value_or(0), -180);
    ASSERT_TRUE(f.location);
    EXPECT_NEAR(f.location->lat, -(22 + 54 / 60.0 + 24.48 / 3600), 1e-7);
    EXPECT_NEAR(f.location->lon, -(43 + 10 / 60.0 + 22.44 / 3600), 1e-7);
    // Through read_asset: Exiv2 first, our walker when Exiv2 finds nothing; the same reading either way.
    pf::AssetFacts a = read_named("IMG_0001.CR3", file);
    EXPECT_EQ(a.type.format, "cr3");
    EXPECT_EQ(pf::format_sql_timestamp(a.captured), "2022-08-09 10:11:12");
    EXPECT_EQ(a.utc_offset_minutes.value_or(0), -180);
    ASSERT_TRUE(a.location);
    for (size_t cut = 0; cut < file.size(); cut += 9)
        (void)pf::read_cr3_metadata(pf::MemoryRandomAccess(reinterpret_cast<const uint8_t*>(file.data()), cut));
}

TEST(RawFamilies, SigmaX3fDatedByItsEmbeddedExifElseByName) {
    std::string tiff = tiff_block({{"Exif.Photo.DateTimeOriginal", "2008:04:05 06:07:08"}});
    std::string x3f = std::string("FOVb\0\0\2\0", 8) + std::string(200, '\0') + jpeg(tiff, "") + std::string(100, 'p');
    pf::AssetFacts f = read_named("SDIM0001.X3F", x3f);
    EXPECT_EQ(f.type.format, "x3f");
    EXPECT_EQ(pf::format_sql_timestamp(f.captured), "2008-04-05 06:07:08");
    EXPECT_EQ(f.date_source, "exif_original");
    EXPECT_TRUE(f.metadata_errors.empty());
    // No EXIF: no error either (Exiv2 has no X3F reader); the name dates it.
    f = read_named("SDIM_20090102_030405.X3F", std::string("FOVb\0\0\2\0", 8) + std::string(300, '\0'));
    EXPECT_EQ(f.date_source, "filename");
    EXPECT_TRUE(f.metadata_errors.empty());
}

// ------------------------------------------------------------------ gap 7: maker-note dates

namespace {
std::string makernote_block(const char* make, const std::vector<std::pair<const char*, const Exiv2::Value*>>& tags) {
    pf::init_metadata_library();
    Exiv2::ExifData d;
    d["Exif.Image.Make"] = make;
    for (auto& t : tags) d.add(Exiv2::ExifKey(t.first), t.second);
    Exiv2::Blob blob;
    Exiv2::ExifParser::encode(blob, Exiv2::littleEndian, d);
    return std::string(blob.begin(), blob.end());
}
}  // namespace

TEST(MakerNotes, VendorDatesWhenNoStandardTagExists) {
    Exiv2::DataValue date(Exiv2::undefined), time(Exiv2::undefined);
    date.read("7 215 3 4");  // 7 * 256 + 215 = 2007, March 4
    time.read("5 6 7");
    std::string pentax = makernote_block("PENTAX Corporation", {{"Exif.Pentax.Date", &date}, {"Exif.Pentax.Time", &time}});
    pf::ImageFacts f = pf::read_exif_block(pentax, "", kNow);
    EXPECT_EQ(when(f), "2007-03-04 05:06:07");
    EXPECT_EQ(f.date_source, "makernote");
    EXPECT_FALSE(f.offset_minutes);
    // A standard tag, even ModifyDate, still wins.
    Exiv2::ExifData d;
    Exiv2::ExifParser::decode(d, reinterpret_cast<const Exiv2::byte*>(pentax.data()), uint32_t(pentax.size()));
    d["Exif.Image.DateTime"] = "2010:01:01 01:01:01";
    Exiv2::Blob blob;
    Exiv2::ExifParser::encode(blob, Exiv2::littleEndian, d);
    f = pf::read_exif_block(std::string(blob.begin(), blob.end()), "", kNow);
    EXPECT_EQ(f.date_source, "exif_image");
    // Without any date anywhere: nothing (the file name, then the mtime, decide).
    f = pf::read_exif_block(makernote_block("PENTAX Corporation", {}), "", kNow);
    EXPECT_FALSE(f.captured);
}
