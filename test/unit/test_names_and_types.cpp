#include <gtest/gtest.h>

#include <cstring>

#include "core/filename_sanitize.hpp"
#include "core/inbox_rules.hpp"
#include "core/media_type.hpp"
#include "core/sha256.hpp"

namespace {
std::optional<pf::MediaType> sniff(const std::string& bytes, const char* name) {
    return pf::sniff_media_type(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), name);
}
std::string ftyp(const char* brand) {
    std::string b("\0\0\0\x18" "ftyp", 8);
    b += brand;
    b += std::string("\0\0\0\0", 4) + "mif1" + "isom";
    return b;
}
}  // namespace

TEST(MediaType, ByContentNotExtension) {
    EXPECT_EQ(sniff("\xFF\xD8\xFF\xE1rest", "x.png")->format, "jpeg");
    EXPECT_EQ(sniff("\x89PNG\r\n\x1a\n....", "x.jpg")->format, "png");
    EXPECT_EQ(sniff("GIF89a....", "a")->format, "gif");
    EXPECT_EQ(sniff(std::string("RIFF\0\0\0\0WEBPVP8 ", 16), "a")->format, "webp");
    EXPECT_EQ(sniff(ftyp("heic"), "a.jpg")->format, "heic");
    EXPECT_EQ(sniff(ftyp("avif"), "a")->format, "avif");
    EXPECT_EQ(sniff(ftyp("qt  "), "a")->format, "mov");
    EXPECT_EQ(sniff(ftyp("qt  "), "a")->kind, pf::MediaKind::Video);
    EXPECT_EQ(sniff(ftyp("isom"), "a")->format, "mp4");
    EXPECT_EQ(sniff(ftyp("3gp4"), "a")->format, "3gp");
    EXPECT_EQ(sniff(std::string("II*\0\x08\0\0\0", 8), "a.tif")->format, "tiff");
    EXPECT_EQ(sniff(std::string("II*\0\x08\0\0\0", 8), "a.DNG")->format, "dng");
    EXPECT_EQ(sniff(std::string("II*\0\x10\0\0\0CR\x02\0", 12), "a.cr2")->format, "cr2");
    EXPECT_FALSE(sniff("shopping list\n", "notes.jpg"));
    EXPECT_FALSE(sniff(ftyp("M4A "), "song.m4a"));
    EXPECT_FALSE(sniff("", "empty.jpg"));
}

TEST(InboxRules, WhatIsLeftAlone) {
    using pf::NameVerdict;
    EXPECT_EQ(pf::classify_name("IMG_1.JPG", false), NameVerdict::Candidate);
    EXPECT_EQ(pf::classify_name(".syncthing.IMG_1.JPG.tmp", false), NameVerdict::Temporary);
    EXPECT_EQ(pf::classify_name("~syncthing~IMG_1.JPG.tmp", false), NameVerdict::Temporary);
    EXPECT_EQ(pf::classify_name("video.mp4.part", false), NameVerdict::Temporary);
    EXPECT_EQ(pf::classify_name("x.crdownload", false), NameVerdict::Temporary);
    EXPECT_EQ(pf::classify_name(".DS_Store", false), NameVerdict::Hidden);
    EXPECT_EQ(pf::classify_name(".stversions", true), NameVerdict::Hidden);
    EXPECT_EQ(pf::classify_name("Thumbs.db", false), NameVerdict::Ignored);
    EXPECT_EQ(pf::classify_name("@eaDir", true), NameVerdict::Ignored);
    EXPECT_EQ(pf::classify_name("Camera", true), NameVerdict::Candidate);
}

TEST(InboxRules, SettleUsesNanoseconds) {
    struct stat st;
    std::memset(&st, 0, sizeof st);
    st.st_mtim = {100, 900000000};
    st.st_ctim = {100, 900000000};
    EXPECT_FALSE(pf::has_settled_ns(st, {101, 0}, 1));   // 0.1 s after the change
    EXPECT_TRUE(pf::has_settled_ns(st, {101, 900000000}, 1));
    st.st_ctim = {105, 0};                                // renamed later: ctime counts
    EXPECT_FALSE(pf::has_settled_ns(st, {105, 500000000}, 1));
}

TEST(Sanitize, ValidNamesUntouchedOthersEscaped) {
    EXPECT_EQ(pf::sanitize_filename("IMG_0001.JPG").name, "IMG_0001.JPG");
    EXPECT_FALSE(pf::sanitize_filename("Café 🎄.jpg").changed);
    EXPECT_EQ(pf::sanitize_filename("bad\xffname.jpg").name, "bad%FFname.jpg");
    EXPECT_EQ(pf::sanitize_filename("line\nbreak.jpg").name, "line%0Abreak.jpg");
    EXPECT_EQ(pf::sanitize_filename("..").name, "_");
    EXPECT_EQ(pf::sanitize_filename("\xc0\xaf.jpg").name, "%C0%AF.jpg");  // overlong '/'
    std::string longname;
    for (int i = 0; i < 100; i++) longname += "é";  // 200 bytes
    longname += std::string(100, 'x') + ".jpeg";
    auto s = pf::sanitize_filename(longname);
    EXPECT_LE(s.name.size(), 255u);
    EXPECT_EQ(s.name.substr(s.name.size() - 5), ".jpeg");
    EXPECT_EQ(pf::sanitize_filename(longname).name, s.name);  // deterministic
    EXPECT_EQ(pf::sanitize_rel_path("Phone/bad\xff/x.jpg"), "Phone/bad%FF/x.jpg");
}

TEST(Sanitize, CutNeverSplitsAnEscape) {
    // 251 invalid bytes escape to 753: cut to fit 255 with ".jpg", at a whole "%FF".
    std::string raw(251, '\xff');
    raw += ".jpg";
    auto s = pf::sanitize_filename(raw);
    std::string want;
    for (int i = 0; i < 83; i++) want += "%FF";
    EXPECT_EQ(s.name, want + ".jpg");
    // A literal '%' of the name is not an escape: cut as any other byte.
    std::string lit = std::string(250, 'a') + "%%%%%%%%.jpg";
    EXPECT_EQ(pf::sanitize_filename(lit).name, std::string(250, 'a') + "%.jpg");
}

TEST(Sha256, KnownVectors) {
    pf::Sha256 a;
    EXPECT_EQ(a.hex_digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    pf::Sha256 b;
    b.update("ab", 2);
    b.update("c", 1);
    EXPECT_EQ(b.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
