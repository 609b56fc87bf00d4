// Renditions: sizes, orientation, colour, alpha, animation, RAW previews,
// video frames, refusals (corrupt, truncated, bombs) and the memory bound.
// Fixtures are made here with ImageMagick, libvips, exiftool, heif-enc and
// ffmpeg (scripts/install-deps.sh installs them).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vips/vips.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "core/imaging_runtime.hpp"
#include "core/thumbnail_layout.hpp"
#include "core/thumbnail_render.hpp"
#include "temp_dir.hpp"

namespace {

pf::test::TempDir* fx = nullptr;

void sh(const std::string& cmd) {
    // Braces: a redirection inside cmd (e.g. "head ... > x") must win over ours.
    std::string full = "set -e; cd '" + fx->path() + "'; { " + cmd + "; } >/dev/null 2>&1";
    ASSERT_EQ(std::system(full.c_str()), 0) << "fixture command failed: " << cmd;
}

class Thumbnails : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        fx = new pf::test::TempDir();
        pf::imaging_init(pf::ImagingSettings{});
        // Upright picture: red top half, blue bottom half (200x100). Stored
        // turned 90 degrees counter-clockwise with Orientation 6 ("rotate 90 CW
        // to display"), as a portrait phone photo is.
        sh("convert -size 200x50 xc:red -size 200x50 xc:blue -append upright.png");
        sh("convert upright.png -rotate -90 -quality 95 sideways.jpg && exiftool -q -overwrite_original -n -Orientation=6 sideways.jpg");
        sh("convert -size 4000x3000 gradient:red-blue -quality 90 twelve.jpg");
        sh("convert -size 64x64 xc:red r.png && vips icc_transform r.png p3.jpg p3");  // red in Display P3, profile embedded
        sh("convert -size 100x100 xc:none -fill red -draw 'rectangle 0,0 49,99' alpha.png");
        sh("convert -size 300x200 xc:red -size 300x200 xc:blue -loop 0 anim.gif");
        sh("convert -size 300x200 gradient:white-black -depth 16 grey16.png");
        sh("convert -size 200x50 xc:red -size 200x50 xc:blue -append -quality 90 heic_src.jpg && heif-enc -q 90 -o pic.heic heic_src.jpg");
        // A RAW whose embedded preview (a second TIFF page) is 160x120 red-top,
        // with the RAW's Orientation 6.
        sh("convert -size 160x60 xc:red -size 160x60 xc:blue -append half.jpg && convert -size 64x48 xc:gray half.jpg -compress JPEG raw.tiff && "
           "mv raw.tiff raw.dng && exiftool -q -overwrite_original -n '-DNGVersion=1 4 0 0' -Orientation=6 raw.dng");
        // One black second, then two red ones; and a landscape frame (left
        // half red) with a display matrix turning it a quarter (the matrix is
        // only written on a stream copy in FFmpeg 5.1), plus FFmpeg's own
        // auto-rotated rendering of that frame as the reference.
        sh("ffmpeg -nostdin -y -f lavfi -i color=c=black:s=320x240:d=1:r=25 -f lavfi -i color=c=red:s=320x240:d=2:r=25 "
           "-filter_complex concat=n=2:v=1:a=0 -c:v libx264 -pix_fmt yuv420p blackstart.mp4");
        sh("ffmpeg -nostdin -y -f lavfi -i color=c=red:s=160x240:d=1:r=25 -f lavfi -i color=c=blue:s=160x240:d=1:r=25 "
           "-filter_complex hstack -c:v libx264 -pix_fmt yuv420p flat.mp4 && "
           "ffmpeg -nostdin -y -i flat.mp4 -c copy -metadata:s:v:0 rotate=90 rotated.mp4 && "
           "ffmpeg -nostdin -y -i rotated.mp4 -frames:v 1 rotated_by_ffmpeg.png");
        // Broken files.
        // Cut where libjpeg only warns ("Premature end of JPEG file") and
        // libvips would pad the picture with grey: baseline and progressive.
        sh("convert -size 3000x2000 gradient:red-blue -quality 85 g.jpg && head -c 30000 g.jpg > truncated.jpg");
        sh("vips copy g.jpg gp.jpg[interlace] && head -c 20000 gp.jpg > truncated_progressive.jpg");
        sh("printf '\\377\\330\\377\\340garbage-that-is-no-jpeg' > corrupt.jpg && head -c 5000 /dev/urandom >> corrupt.jpg");
        sh("head -c 3000 blackstart.mp4 > truncated.mp4");
        write_bomb();
    }
    static void TearDownTestSuite() {
        delete fx;
        fx = nullptr;
    }

    // A valid 1x1 PNG whose header is rewritten to declare 100,000 x 100,000
    // pixels (CRC fixed): a decompression bomb's calling card.
    static void write_bomb() {
        sh("convert -size 1x1 xc:red bomb_src.png");
        std::ifstream in(fx->path() + "/bomb_src.png", std::ios::binary);
        std::string png((std::istreambuf_iterator<char>(in)), {});
        ASSERT_GT(png.size(), 33u);
        auto be32 = [&](size_t at, uint32_t v) {
            for (int i = 0; i < 4; i++) png[at + i] = static_cast<char>((v >> (24 - 8 * i)) & 0xff);
        };
        be32(16, 100000);
        be32(20, 100000);
        uint32_t crc = 0xffffffffu;  // over "IHDR" + 13 data bytes
        for (size_t i = 12; i < 29; i++) {
            crc ^= static_cast<uint8_t>(png[i]);
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
        }
        be32(29, crc ^ 0xffffffffu);
        std::ofstream(fx->path() + "/bomb.png", std::ios::binary) << png;
    }

    static pf::RenderResult render(const std::string& name, const pf::RenderSettings& s = {}) {
        int fd = open((fx->path() + "/" + name).c_str(), O_RDONLY | O_CLOEXEC);
        EXPECT_GE(fd, 0) << name;
        struct Closer {
            int fd;
            ~Closer() { close(fd); }
        } c{fd};
        return pf::render_renditions(fd, name, s);
    }

    static pf::ThumbnailError refusal(const std::string& name, const pf::RenderSettings& s = {}) {
        try {
            render(name, s);
        } catch (const pf::ThumbnailError& e) {
            return e;
        }
        ADD_FAILURE() << name << " was rendered, expected a refusal";
        return pf::ThumbnailError(pf::ThumbFailure::Io, "none");
    }

    struct Pixels {
        int width = 0, height = 0, bands = 0;
        std::vector<double> at(int x, int y) const {
            double* v = nullptr;
            int n = 0;
            EXPECT_EQ(vips_getpoint(img, &v, &n, x, y, nullptr), 0);
            std::vector<double> out(v, v + n);
            g_free(v);
            return out;
        }
        VipsImage* img = nullptr;
        std::string format;
        std::string bytes;  // libvips reads from it lazily: it must outlive img
        ~Pixels() {
            if (img) g_object_unref(img);
        }
    };

    static std::unique_ptr<Pixels> decode(const std::string& bytes) {
        auto p = std::make_unique<Pixels>();
        p->bytes = bytes;
        p->img = vips_image_new_from_buffer(p->bytes.data(), p->bytes.size(), "", nullptr);
        EXPECT_NE(p->img, nullptr);
        if (!p->img) return p;
        p->width = vips_image_get_width(p->img);
        p->height = vips_image_get_height(p->img);
        p->bands = vips_image_get_bands(p->img);
        const char* loader = nullptr;
        if (vips_image_get_string(p->img, "vips-loader", &loader) == 0) p->format = loader;
        return p;
    }

    // Clearly one primary (JPEG chroma subsampling bleeds a little near edges).
    static bool reddish(const std::vector<double>& v) {
        return v.size() >= 3 && v[0] > 180 && v[0] > v[1] + 120 && v[0] > v[2] + 120;
    }
    static bool bluish(const std::vector<double>& v) {
        return v.size() >= 3 && v[2] > 180 && v[2] > v[0] + 120 && v[2] > v[1] + 120;
    }
};

TEST_F(Thumbnails, SizesAndFormatsOfBothRenditions) {
    auto r = render("twelve.jpg");
    EXPECT_EQ(r.decoder, "libjpeg-turbo at 4/8");  // 2000x1500: 1.25 x 1440 and more
    EXPECT_EQ(r.source_width, 4000);
    EXPECT_EQ(r.source_height, 3000);
    auto preview = decode(r.bytes.preview);
    auto thumb = decode(r.bytes.thumbnail);
    EXPECT_EQ(preview->format, "jpegload_buffer");
    EXPECT_EQ(thumb->format, "webpload_buffer");
    EXPECT_EQ(preview->width, 1440);
    EXPECT_EQ(preview->height, 1080);
    EXPECT_EQ(thumb->width, 250);
    EXPECT_NEAR(thumb->height, 188, 1);
    EXPECT_EQ(preview->bands, 3);
}

TEST_F(Thumbnails, ConfiguredSizesAreHonoured) {
    pf::RenderSettings s;
    s.thumbnail_size = 120;
    s.preview_size = 800;
    auto r = render("twelve.jpg", s);
    EXPECT_EQ(decode(r.bytes.preview)->width, 800);
    EXPECT_EQ(decode(r.bytes.thumbnail)->width, 120);
}

TEST_F(Thumbnails, SmallImagesAreNotEnlarged) {
    auto r = render("p3.jpg");
    EXPECT_EQ(decode(r.bytes.preview)->width, 64);
    EXPECT_EQ(decode(r.bytes.thumbnail)->width, 64);
}

TEST_F(Thumbnails, ExifOrientationIsAppliedRedStaysOnTop) {
    auto r = render("sideways.jpg");
    for (const std::string* bytes : {&r.bytes.preview, &r.bytes.thumbnail}) {
        auto p = decode(*bytes);
        EXPECT_EQ(p->width, 200);
        EXPECT_EQ(p->height, 100);
        EXPECT_TRUE(reddish(p->at(100, 10))) << "top must be red";
        EXPECT_TRUE(bluish(p->at(100, 90))) << "bottom must be blue";
    }
}

TEST_F(Thumbnails, EmbeddedIccProfileIsConvertedToSrgb) {
    // Pure red stored in Display P3 reads (234, 51, 35) if the profile is
    // ignored; converted to sRGB it is red again.
    auto p = decode(render("p3.jpg").bytes.preview);
    auto v = p->at(32, 32);
    EXPECT_GT(v[0], 240);
    EXPECT_LT(v[1], 25) << "green channel shows the P3 profile was not applied";
}

TEST_F(Thumbnails, AlphaIsFlattenedOnWhiteForJpegAndKeptInWebp) {
    auto r = render("alpha.png");
    auto preview = decode(r.bytes.preview);
    EXPECT_EQ(preview->bands, 3);
    auto left = preview->at(10, 50), right = preview->at(90, 50);
    EXPECT_TRUE(reddish(left));
    EXPECT_GT(right[0], 240);
    EXPECT_GT(right[1], 240);
    EXPECT_GT(right[2], 240) << "transparent area must be white, not black";
    EXPECT_EQ(decode(r.bytes.thumbnail)->bands, 4);
}

TEST_F(Thumbnails, AnimatedGifGivesItsFirstFrame) {
    auto r = render("anim.gif");
    auto p = decode(r.bytes.preview);
    EXPECT_EQ(p->width, 300);
    EXPECT_EQ(p->height, 200) << "one frame, not the strip of all frames";
    EXPECT_TRUE(reddish(p->at(150, 100)));
}

TEST_F(Thumbnails, SixteenBitGreyBecomesEightBitSrgb) {
    auto r = render("grey16.png");
    auto p = decode(r.bytes.preview);
    EXPECT_EQ(p->bands, 3);
    EXPECT_EQ(vips_image_get_format(p->img), VIPS_FORMAT_UCHAR);
    EXPECT_GT(p->at(150, 2)[0], 200);
    EXPECT_LT(p->at(150, 197)[0], 50);
}

TEST_F(Thumbnails, HeicThroughLibheif) {
    auto r = render("pic.heic");
    EXPECT_EQ(r.decoder, "VipsForeignLoadHeifSource");
    auto p = decode(r.bytes.preview);
    EXPECT_EQ(p->width, 200);
    EXPECT_EQ(p->height, 100);
    EXPECT_TRUE(reddish(p->at(100, 10)));
    EXPECT_TRUE(bluish(p->at(100, 90)));
}

TEST_F(Thumbnails, RawUsesItsLargestEmbeddedPreviewTurnedByTheRawOrientation) {
    auto r = render("raw.dng");
    EXPECT_EQ(r.decoder, "raw preview");
    auto p = decode(r.bytes.preview);
    // 160x120 preview, red on top as stored; Orientation 6 turns it clockwise:
    // portrait, red on the right.
    EXPECT_EQ(p->width, 120);
    EXPECT_EQ(p->height, 160);
    EXPECT_TRUE(reddish(p->at(110, 80)));
    EXPECT_TRUE(bluish(p->at(10, 80)));
}

TEST_F(Thumbnails, VideoSkipsTheBlackStart) {
    auto r = render("blackstart.mp4");
    auto p = decode(r.bytes.preview);
    EXPECT_EQ(p->width, 320);
    EXPECT_EQ(p->height, 240);
    EXPECT_TRUE(reddish(p->at(160, 120))) << "a black first frame was taken (" << r.decoder << ")";
    EXPECT_TRUE(reddish(decode(r.bytes.thumbnail)->at(100, 60)));
}

TEST_F(Thumbnails, VideoDisplayMatrixRotationIsHonoured) {
    auto r = render("rotated.mp4");
    EXPECT_EQ(r.source_width, 320);
    auto p = decode(r.bytes.preview);
    EXPECT_EQ(p->width, 240);
    EXPECT_EQ(p->height, 320);
    // Exactly as FFmpeg itself shows it (blue on top for this matrix).
    std::ifstream in(fx->path() + "/rotated_by_ffmpeg.png", std::ios::binary);
    auto ref = decode(std::string((std::istreambuf_iterator<char>(in)), {}));
    ASSERT_EQ(ref->width, 240);
    for (int y : {40, 280}) {
        EXPECT_EQ(reddish(p->at(120, y)), reddish(ref->at(120, y))) << y;
        EXPECT_EQ(bluish(p->at(120, y)), bluish(ref->at(120, y))) << y;
    }
    EXPECT_TRUE(bluish(p->at(120, 40)));
    EXPECT_TRUE(reddish(p->at(120, 280)));
}

TEST_F(Thumbnails, TruncatedJpegIsRefusedAsCorrupt) {
    struct stat st;
    ASSERT_EQ(stat((fx->path() + "/truncated.jpg").c_str(), &st), 0);
    ASSERT_EQ(st.st_size, 30000);
    auto e = refusal("truncated.jpg");
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
    EXPECT_EQ(e.failure, pf::ThumbFailure::Corrupt) << e.what();
    EXPECT_EQ(std::string(e.what()).rfind("corrupt: ", 0), 0u) << e.what();
}

TEST_F(Thumbnails, TruncatedProgressiveJpegIsRefused) {
    auto e = refusal("truncated_progressive.jpg");
    EXPECT_EQ(e.failure, pf::ThumbFailure::Corrupt) << e.what();
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
}

TEST_F(Thumbnails, WholeJpegsPassTheTruncationCheck) {
    EXPECT_NO_THROW(render("g.jpg"));
    sh("vips copy g.jpg gp_whole.jpg[interlace]");
    EXPECT_NO_THROW(render("gp_whole.jpg"));
    // A Motion Photo: a video appended after the JPEG's end does not matter.
    sh("cat g.jpg blackstart.mp4 > motion.jpg");
    auto r = render("motion.jpg");
    EXPECT_EQ(r.source_width, 3000);
}

TEST_F(Thumbnails, GarbageWithAJpegSignatureIsRefused) {
    auto e = refusal("corrupt.jpg");
    EXPECT_EQ(e.failure, pf::ThumbFailure::Corrupt) << e.what();
}

TEST_F(Thumbnails, TruncatedVideoIsRefused) {
    auto e = refusal("truncated.mp4");
    EXPECT_EQ(e.failure, pf::ThumbFailure::Corrupt) << e.what();
}

TEST_F(Thumbnails, DecompressionBombIsRefusedFromItsHeader) {
    auto e = refusal("bomb.png");
    EXPECT_EQ(e.failure, pf::ThumbFailure::TooLarge) << e.what();
    EXPECT_NE(std::string(e.what()).find("100000x100000"), std::string::npos) << e.what();
}

TEST_F(Thumbnails, PixelLimitIsASetting) {
    pf::RenderSettings s;
    s.max_pixels = 10 * 1000 * 1000;  // the 12-megapixel photo is over it
    auto e = refusal("twelve.jpg", s);
    EXPECT_EQ(e.failure, pf::ThumbFailure::TooLarge) << e.what();
    pf::RenderSettings v;
    v.max_pixels = 50000;  // video frames count too
    EXPECT_EQ(refusal("blackstart.mp4", v).failure, pf::ThumbFailure::TooLarge);
}

TEST_F(Thumbnails, NotMediaIsUnsupported) {
    fx->write("notes.jpg", "just some text, not a picture at all\n");
    EXPECT_EQ(refusal("notes.jpg").failure, pf::ThumbFailure::Unsupported);
}

TEST_F(Thumbnails, SignalsAreRestoredAfterRendering) {
    sigset_t before, after;
    pthread_sigmask(SIG_SETMASK, nullptr, &before);
    render("twelve.jpg");
    pthread_sigmask(SIG_SETMASK, nullptr, &after);
    for (int sig = 1; sig < 32; sig++) EXPECT_EQ(sigismember(&before, sig), sigismember(&after, sig)) << sig;
}

// Peak RSS of a whole process (pf-thumbnail) rendering one huge image: the
// bound stated in docs/operations.md.
long peak_rss_kb(const std::string& args, std::string* line) {
    std::string cmd = std::string(PF_THUMBNAIL_TOOL) + " " + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return -1;
    char buf[4096];
    std::string out;
    while (fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
    *line = out;
    size_t at = out.find("\"max_rss_kb\":");
    return at == std::string::npos ? -1 : std::atol(out.c_str() + at + 13);
}

TEST_F(Thumbnails, HundredMegapixelJpegStaysUnderTheMemoryBound) {
    sh("vips black huge.jpg[Q=80] 10000 10000 --bands 3");
    std::string line;
    long kb = peak_rss_kb(fx->path() + "/huge.jpg", &line);
    EXPECT_NE(line.find("\"ok\":true"), std::string::npos) << line;
    // Decoded by libjpeg at 2/8 (2500 x 2500), the scale that still covers 1440.
    EXPECT_NE(line.find("\"decoder\":\"libjpeg-turbo at 2/8\""), std::string::npos) << line;
    EXPECT_GT(kb, 0) << line;
    EXPECT_LT(kb, 256 * 1024) << line;
    std::printf("100-megapixel baseline JPEG: peak RSS %ld kB\n", kb);
}

TEST_F(Thumbnails, HugeNonShrinkablePngStreamsUnderTheMemoryBound) {
    sh("vips black huge.png[compression=1] 12000 12000 --bands 3");
    std::string line;
    long kb = peak_rss_kb(fx->path() + "/huge.png", &line);
    EXPECT_NE(line.find("\"ok\":true"), std::string::npos) << line;
    EXPECT_LT(kb, 256 * 1024) << line;
    std::printf("144-megapixel PNG: peak RSS %ld kB\n", kb);
}

TEST_F(Thumbnails, WholeImageDecoderOverTheMemoryBudgetIsRefused) {
    // Progressive: libjpeg would hold 10000 x 10000 x 3 coefficients (600 MB).
    sh("vips black prog.jpg[Q=80,interlace] 10000 10000 --bands 3");
    auto e = refusal("prog.jpg");
    EXPECT_EQ(e.failure, pf::ThumbFailure::TooLarge) << e.what();
    EXPECT_NE(std::string(e.what()).find("thumbnail_max_decode_memory"), std::string::npos) << e.what();
}

// Layout and writing.

TEST(ThumbnailLayout, TwoLevelFanOutKeyedByAssetId) {
    const std::string id = "abcdef01-2345-4678-9abc-def012345678";
    EXPECT_EQ(pf::rendition_rel_path(id, pf::RenditionKind::Thumbnail), "ab/cd/" + id + "-thumb.webp");
    EXPECT_EQ(pf::rendition_rel_path(id, pf::RenditionKind::Preview), "ab/cd/" + id + "-preview.jpg");
    EXPECT_THROW(pf::rendition_dir("../../etc/passwd-0000-0000-0000-000000000"), pf::Error);
    EXPECT_THROW(pf::rendition_dir("ABCDEF01-2345-4678-9ABC-DEF012345678"), pf::Error);
    EXPECT_EQ(pf::parse_rendition_kind("preview"), pf::RenditionKind::Preview);
    EXPECT_FALSE(pf::parse_rendition_kind("original").has_value());
}

TEST(ThumbnailLayout, WritesBothDurablyAndReplacesOnlyOurFiles) {
    pf::test::TempDir t;
    int root = t.open_dir();
    const std::string id = "0123abcd-2345-4678-9abc-def012345678";
    pf::write_renditions(root, id, {"thumb-v1", "preview-v1"});
    // A crash left a temporary behind: the next write reuses its name.
    t.write("01/23/." + id + "-thumb.webp.tmp", "half");
    pf::write_renditions(root, id, {"thumb-v2", "preview-v2"});
    std::ifstream a(t / ("01/23/" + id + "-thumb.webp")), b(t / ("01/23/" + id + "-preview.jpg"));
    std::stringstream sa, sb;
    sa << a.rdbuf();
    sb << b.rdbuf();
    EXPECT_EQ(sa.str(), "thumb-v2");
    EXPECT_EQ(sb.str(), "preview-v2");
    int n = 0;
    for (auto& e : std::filesystem::directory_iterator(t / "01/23")) {
        (void)e;
        n++;
    }
    EXPECT_EQ(n, 2) << "no temporaries left behind";
    close(root);
}

// photofactory.storage_mode reaches Thumbnails/ as it reaches Originals/:
// created folders and both files get the modes exactly, whatever the umask.
TEST(ThumbnailLayout, StorageModeAppliesToCreatedFoldersAndBothFiles) {
    pf::test::TempDir t;
    int root = t.open_dir();
    mode_t old = umask(077);
    const std::string id = "4567abcd-2345-4678-9abc-def012345678";
    pf::write_renditions(root, id, {"thumb", "preview"}, 0750, 0640);
    // A leftover temporary of another mode is rewritten with the mode too.
    const std::string id2 = "4567ef01-2345-4678-9abc-def012345678";
    t.write("45/67/." + id2 + "-preview.jpg.tmp", "half");
    ASSERT_EQ(chmod((t / ("45/67/." + id2 + "-preview.jpg.tmp")).c_str(), 0600), 0);
    pf::write_renditions(root, id2, {"thumb", "preview"}, 0750, 0640);
    // Mode 0 (the default): 0.1.0's behaviour, the umask decides.
    const std::string id3 = "89abcdef-2345-4678-9abc-def012345678";
    pf::write_renditions(root, id3, {"thumb", "preview"});
    umask(old);
    auto mode = [&](const std::string& rel) {
        struct stat st;
        EXPECT_EQ(stat((t / rel).c_str(), &st), 0) << rel;
        return st.st_mode & 07777;
    };
    EXPECT_EQ(mode("45"), 0750u);
    EXPECT_EQ(mode("45/67"), 0750u);
    for (const std::string& i : {id, id2}) {
        EXPECT_EQ(mode("45/67/" + i + "-thumb.webp"), 0640u) << i;
        EXPECT_EQ(mode("45/67/" + i + "-preview.jpg"), 0640u) << i;
    }
    EXPECT_EQ(mode("89"), 0700u);
    EXPECT_EQ(mode("89/ab/" + id3 + "-thumb.webp"), 0600u);
    close(root);
}

TEST(ThumbnailLayout, OpenBeneathRefusesSymlinksAndDotDot) {
    pf::test::TempDir t;
    t.write("Originals/2024/a.jpg", "x");
    ASSERT_EQ(symlink((t / "Originals").c_str(), (t / "link").c_str()), 0);
    int root = t.open_dir();
    int fd = pf::open_file_beneath(root, "Originals/2024/a.jpg");
    EXPECT_GE(fd, 0);
    close(fd);
    try {
        pf::open_file_beneath(root, "link/2024/a.jpg");
        ADD_FAILURE() << "followed a symlink";
    } catch (const pf::IoError& e) {
        EXPECT_EQ(e.err, ELOOP) << e.what();
    }
    try {
        pf::open_file_beneath(root, "Originals/2024/missing.jpg");
        ADD_FAILURE();
    } catch (const pf::IoError& e) {
        EXPECT_EQ(e.err, ENOENT);
    }
    EXPECT_THROW(pf::open_file_beneath(root, "Originals/../Originals/2024/a.jpg"), pf::IoError);
    close(root);
}

}  // namespace
