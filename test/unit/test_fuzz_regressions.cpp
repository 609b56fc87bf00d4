// Inputs found by the libFuzzer target (test/fuzz/), each reduced to a few
// bytes: the core must read them without touching memory it does not own.
// Under ASan (-DPF_SANITIZE=ON, or test/fuzz/run.sh) the old code failed here.
#include <gtest/gtest.h>

#include <string>

#include "core/bmff_reader.hpp"
#include "core/exif_reader.hpp"

namespace {

const int64_t kNow = 1764000000;

pf::ImageFacts image_facts(const std::string& b) {
    pf::init_metadata_library();
    return pf::read_image_facts(reinterpret_cast<const uint8_t*>(b.data()), b.size(), kNow);
}

bool has_error_containing(const pf::ImageFacts& f, const std::string& text) {
    for (const auto& e : f.errors)
        if (e.find(text) != std::string::npos) return true;
    return false;
}

}  // namespace

// Exiv2 0.27 takes a "pnot" box for QuickTime and its video parser ran strlen()
// past a 4-byte buffer (heap-buffer-overflow in QuickTimeVideo::previewTagDecoder).
// Video containers are never handed to Exiv2 now, whatever it detects.
TEST(FuzzRegression, QuickTimePreviewAtomNeverReachesExiv2) {
    const std::string crash(
        "\x00\x00\x00\x1c\x70\x6e\x6f\x74\x6d\x64\x74\x61\x66\x74\x79\x70\x68\x69\x63\x00\x2e\x30\x20\x00"
        "\x00\x02\x00\x00\x00\xab\x61\xff\x17\x76\x58\x59\xdc\xae\x80\xc1\x5b\xf2\xfa\xc0\xf6\x5b\xf2\xfa"
        "\xc0\xf6\x64\x9b\xc0\xf3\xaa\x91\x9e\x80\x87\x69\xa7\x30\x15\x78\xc0\xf6\x64\x9b\xc0\xf3\xaa\x91"
        "\x9e\x80\x87\x69\xa7\x30\x15\x78",
        80);
    pf::ImageFacts f = image_facts(crash);
    EXPECT_FALSE(f.captured);
    EXPECT_TRUE(has_error_containing(f, "not a still-image container")) << (f.errors.empty() ? "" : f.errors[0]);
}

TEST(FuzzRegression, VideoContainersAreNotParsedAsImages) {
    const std::string qt = std::string("\x00\x00\x00\x14" "ftypqt  \x00\x00\x00\x00qt  ", 20) + std::string(64, '\0');
    const std::string avi = std::string("RIFF\x40\x00\x00\x00" "AVI LIST", 16) + std::string(64, '\0');
    const std::string mkv = std::string("\x1a\x45\xdf\xa3", 4) + std::string(64, '\x42');
    for (const std::string* b : {&qt, &avi, &mkv}) {
        pf::ImageFacts f = image_facts(*b);
        EXPECT_FALSE(f.captured);
        EXPECT_FALSE(f.errors.empty());
    }
}

// An ilst item whose 'data' box is only a header: loading its empty payload
// passed a null buffer to memcpy (UBSan: null pointer passed as argument 1).
TEST(FuzzRegression, EmptyDataBoxInAppleKeys) {
    const std::string crash(
        "\x00\x00\x01\x63moov\x00\x00\x00\xefmeta\x00\x00\x00\x00\x00\x00\x00\x64keys\x00\x00\x00\x00"
        "\x00\x00\x00\x02\x00\x00\x00\x28mdtacom.apple.quicktime.creationdate\x00\x00\x00\x2c"
        "mdtacom.apple.quicktime.location.ISO6709\x00\x00\x00\x62ilst\x00\x00\x00\x30\x00\x00\x00\x01"
        "\x00\x00\x00\x08" "data\x00",
        145);
    pf::MemoryRandomAccess in(reinterpret_cast<const uint8_t*>(crash.data()), crash.size());
    pf::VideoFacts v;
    EXPECT_NO_THROW(v = pf::read_video_facts(in));
    EXPECT_FALSE(v.apple_local);
    EXPECT_FALSE(v.location);
    uint8_t byte = 0;
    EXPECT_EQ(in.read_at(0, nullptr, 0), 0u);
    EXPECT_EQ(in.read_at(crash.size(), &byte, 1), 0u);
}
