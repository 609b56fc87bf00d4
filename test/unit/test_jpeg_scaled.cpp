// JPEGs decoded by libjpeg-turbo at M/8 scale (jpeg_scaled_decode.hpp) and
// rendered through that path: the scale chosen, orientation, ICC, grey, CMYK
// left to libvips, truncated and corrupt files, libjpeg's memory bound.
// Fixtures are made here with ImageMagick, libvips and exiftool.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>
#include <vips/vips.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/imaging_runtime.hpp"
#include "core/jpeg_scaled_decode.hpp"
#include "core/thumbnail_render.hpp"
#include "temp_dir.hpp"

namespace {

pf::test::TempDir* fx = nullptr;

void sh(const std::string& cmd) {
    std::string full = "set -e; cd '" + fx->path() + "'; { " + cmd + "; } >/dev/null 2>&1";
    ASSERT_EQ(std::system(full.c_str()), 0) << "fixture command failed: " << cmd;
}

struct Fd {
    int fd;
    explicit Fd(const std::string& name) : fd(open((fx->path() + "/" + name).c_str(), O_RDONLY | O_CLOEXEC)) {}
    ~Fd() {
        if (fd >= 0) close(fd);
    }
};

class JpegScaled : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        fx = new pf::test::TempDir();
        pf::imaging_init(pf::ImagingSettings{});
        // Upright portrait 900x1200: red top half, blue bottom half. Stored as
        // a camera would write it for each EXIF orientation (the tag says how
        // to turn the stored pixels for display).
        sh("convert -size 900x600 xc:red -size 900x600 xc:blue -append -quality 92 upright.jpg");
        sh("convert upright.jpg -rotate -90 -quality 92 o6.jpg && exiftool -q -overwrite_original -n -Orientation=6 o6.jpg");
        sh("convert upright.jpg -rotate 90 -quality 92 o8.jpg && exiftool -q -overwrite_original -n -Orientation=8 o8.jpg");
        sh("convert upright.jpg -rotate 180 -quality 92 o3.jpg && exiftool -q -overwrite_original -n -Orientation=3 o3.jpg");
        sh("convert -size 1200x900 gradient:red-blue -quality 90 land.jpg");
        // Phones subsample chroma 2x2: libjpeg scales those planes differently.
        sh("convert upright.jpg -sampling-factor 2x2 -quality 85 sub420.jpg");
        sh("convert upright.jpg -sampling-factor 2x1 -quality 85 sub422.jpg");
        sh("vips copy land.jpg land_progressive.jpg[interlace]");
        // Pure red in Display P3 with the profile embedded: (234, 51, 35) if
        // the profile were ignored.
        sh("convert -size 1200x900 xc:red red.png && vips icc_transform red.png p3.jpg p3");
        sh("convert -size 1200x900 gradient:white-black -colorspace Gray -quality 90 grey.jpg");
        sh("convert -size 1200x900 xc:red -colorspace CMYK -quality 90 cmyk.jpg");
        // Cut in the middle of the scan, and cut just before the end marker.
        sh("head -c 20000 land.jpg > cut_mid.jpg");
        sh("head -c $(( $(stat -c %s land.jpg) - 2 )) land.jpg > cut_eoi.jpg");
        sh("printf '\\377\\330\\377\\333\\000\\003x' > junk.jpg && head -c 3000 /dev/urandom >> junk.jpg");
    }
    static void TearDownTestSuite() {
        delete fx;
        fx = nullptr;
    }

    static pf::JpegScaled decode(const std::string& name, int min_long, size_t max_out = 64u << 20,
                                 size_t max_lib = 256u << 20) {
        Fd f(name);
        EXPECT_GE(f.fd, 0) << name;
        return pf::decode_jpeg_scaled(f.fd, min_long, max_out, max_lib);
    }

    static pf::RenderResult render(const std::string& name, int preview = 400) {
        Fd f(name);
        EXPECT_GE(f.fd, 0) << name;
        pf::RenderSettings s;
        s.preview_size = preview;
        s.thumbnail_size = 100;
        return pf::render_renditions(f.fd, name, s);
    }

    struct Picture {
        std::string bytes;  // libvips reads from it lazily: it must outlive img
        VipsImage* img = nullptr;
        ~Picture() {
            if (img) g_object_unref(img);
        }
        int width() const { return vips_image_get_width(img); }
        int height() const { return vips_image_get_height(img); }
        std::vector<double> at(int x, int y) const {
            double* v = nullptr;
            int n = 0;
            EXPECT_EQ(vips_getpoint(img, &v, &n, x, y, nullptr), 0);
            std::vector<double> out(v, v + n);
            g_free(v);
            return out;
        }
    };
    static std::unique_ptr<Picture> picture(const std::string& bytes) {
        auto p = std::make_unique<Picture>();
        p->bytes = bytes;
        p->img = vips_image_new_from_buffer(p->bytes.data(), p->bytes.size(), "", nullptr);
        EXPECT_NE(p->img, nullptr);
        return p;
    }
    static bool reddish(const std::vector<double>& v) {
        return v.size() >= 3 && v[0] > 180 && v[0] > v[1] + 120 && v[0] > v[2] + 120;
    }
    static bool bluish(const std::vector<double>& v) {
        return v.size() >= 3 && v[2] > 180 && v[2] > v[0] + 120 && v[2] > v[1] + 120;
    }
};

TEST(JpegScale, SmallestEighthStillCoveringThePreview) {
    EXPECT_EQ(pf::jpeg_scale_eighths(4000, 3000, 1440), 3);  // 1500 x 1125
    EXPECT_EQ(pf::jpeg_scale_eighths(3000, 4000, 1440), 3);  // portrait: the longest side counts
    EXPECT_EQ(pf::jpeg_scale_eighths(4032, 3024, 1440), 3);  // 1512: an iPhone's 12 MP
    EXPECT_EQ(pf::jpeg_scaled_side(4032, 3), 1512);
    EXPECT_EQ(pf::jpeg_scale_eighths(1920, 1080, 1440), 6);  // exactly 1440
    EXPECT_EQ(pf::jpeg_scale_eighths(2000, 1500, 1440), 6);  // 5/8 would be 1250
    EXPECT_EQ(pf::jpeg_scale_eighths(11550, 8664, 1440), 1); // 100 MP: 1444
    EXPECT_EQ(pf::jpeg_scale_eighths(10000, 10000, 1440), 2); // 1/8 would be 1250
    EXPECT_EQ(pf::jpeg_scale_eighths(1441, 100, 1440), 8);    // 7/8 would be 1261
    EXPECT_EQ(pf::jpeg_scale_eighths(1440, 1080, 1440), 8);   // already the size: whole
    EXPECT_EQ(pf::jpeg_scale_eighths(800, 600, 1440), 8);     // smaller: never enlarged
    EXPECT_EQ(pf::jpeg_scaled_side(3001, 3), 1126);           // libjpeg rounds up
}

TEST_F(JpegScaled, DecodesAtTheChosenScale) {
    auto j = decode("land.jpg", 400);  // 1200x900: 3/8 is 450x338
    ASSERT_EQ(j.status, pf::JpegDecodeStatus::Ok) << j.reason;
    EXPECT_EQ(j.scale_eighths, 3);
    EXPECT_EQ(j.width, 450);
    EXPECT_EQ(j.height, 338);
    EXPECT_EQ(j.bands, 3);
    EXPECT_EQ(j.size, 450u * 338u * 3u);
    auto p = decode("o6.jpg", 400);  // stored 1200x900 (landscape), the tag is not its business
    ASSERT_EQ(p.status, pf::JpegDecodeStatus::Ok) << p.reason;
    EXPECT_EQ(p.width, 450);
    EXPECT_EQ(decode("upright.jpg", 400).height, 450);
    EXPECT_EQ(decode("land.jpg", 2000).scale_eighths, 8);
}

TEST_F(JpegScaled, RendersThroughLibjpegAtTheScale) {
    // 1200x900 for a 400 preview: decoded at 4/8 (600), the smallest scale
    // that keeps a quarter more than the preview for the lanczos step.
    auto r = render("land.jpg");
    EXPECT_EQ(r.decoder, "libjpeg-turbo at 4/8");
    EXPECT_EQ(r.source_width, 1200);
    EXPECT_EQ(r.preview_width, 400);
    EXPECT_EQ(r.preview_height, 300);
    EXPECT_EQ(picture(r.bytes.preview)->width(), 400);
    EXPECT_EQ(picture(r.bytes.thumbnail)->width(), 100);
    // Progressive files take the same path (libjpeg holds their coefficients
    // either way; the whole-image memory check ran before).
    EXPECT_EQ(render("land_progressive.jpg").decoder, "libjpeg-turbo at 4/8");
    // A 600 preview wants 750: 5/8.
    EXPECT_EQ(render("land.jpg", 600).decoder, "libjpeg-turbo at 5/8");
    EXPECT_EQ(render("land.jpg", 600).preview_width, 600);
}

TEST_F(JpegScaled, EveryOrientationComesOutUprightRedOnTop) {
    for (const char* name : {"upright.jpg", "o6.jpg", "o8.jpg", "o3.jpg", "sub420.jpg", "sub422.jpg"}) {
        auto r = render(name);
        EXPECT_EQ(r.decoder, "libjpeg-turbo at 4/8") << name;
        for (const std::string* bytes : {&r.bytes.preview, &r.bytes.thumbnail}) {
            auto p = picture(*bytes);
            EXPECT_LT(p->width(), p->height()) << name << ": portrait";
            EXPECT_TRUE(reddish(p->at(p->width() / 2, p->height() / 10))) << name << ": top must be red";
            EXPECT_TRUE(bluish(p->at(p->width() / 2, p->height() * 9 / 10))) << name << ": bottom must be blue";
        }
        EXPECT_EQ(r.preview_width, 300) << name;
        EXPECT_EQ(r.preview_height, 400) << name;
    }
}

TEST_F(JpegScaled, EmbeddedIccProfileIsHonoured) {
    auto r = render("p3.jpg");
    EXPECT_EQ(r.decoder, "libjpeg-turbo at 4/8");
    auto v = picture(r.bytes.preview)->at(200, 150);
    EXPECT_GT(v[0], 240);
    EXPECT_LT(v[1], 25) << "green channel shows the P3 profile was not applied";
}

TEST_F(JpegScaled, GreyBecomesThreeBandSrgb) {
    auto j = decode("grey.jpg", 400);
    ASSERT_EQ(j.status, pf::JpegDecodeStatus::Ok) << j.reason;
    EXPECT_EQ(j.bands, 1);
    auto r = render("grey.jpg");
    EXPECT_EQ(r.decoder, "libjpeg-turbo at 4/8");
    auto p = picture(r.bytes.preview);
    EXPECT_EQ(vips_image_get_bands(p->img), 3);
    EXPECT_GT(p->at(200, 2)[0], 200);
    EXPECT_LT(p->at(200, 297)[0], 50);
}

TEST_F(JpegScaled, CmykIsLeftToLibvips) {
    auto j = decode("cmyk.jpg", 400);
    EXPECT_EQ(j.status, pf::JpegDecodeStatus::NotHandled) << j.reason;
    EXPECT_EQ(j.pixels, nullptr);
    auto r = render("cmyk.jpg");
    EXPECT_EQ(r.decoder, "VipsForeignLoadJpegSource");
    EXPECT_EQ(r.preview_width, 400);
    EXPECT_TRUE(reddish(picture(r.bytes.preview)->at(200, 150)));
}

TEST_F(JpegScaled, TruncatedFilesAreCorrupt) {
    EXPECT_EQ(decode("cut_mid.jpg", 400).status, pf::JpegDecodeStatus::Truncated);
    EXPECT_EQ(decode("cut_eoi.jpg", 400).status, pf::JpegDecodeStatus::Truncated)
        << "every row decodes, but the end-of-image marker is missing";
    for (const char* name : {"cut_mid.jpg", "cut_eoi.jpg"}) {
        try {
            render(name);
            ADD_FAILURE() << name << " was rendered";
        } catch (const pf::ThumbnailError& e) {
            EXPECT_EQ(e.failure, pf::ThumbFailure::Corrupt) << e.what();
            EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
        }
    }
}

TEST_F(JpegScaled, GarbageIsCorruptWithLibjpegsReason) {
    auto j = decode("junk.jpg", 400);
    EXPECT_EQ(j.status, pf::JpegDecodeStatus::Corrupt);
    EXPECT_FALSE(j.reason.empty());
    EXPECT_EQ(j.pixels, nullptr);
}

TEST_F(JpegScaled, MemoryBoundsAreKept) {
    // The decoded pixels over the in-memory bound: left to libvips (streams).
    auto big = decode("land.jpg", 400, 100 * 1000);
    EXPECT_EQ(big.status, pf::JpegDecodeStatus::NotHandled);
    EXPECT_EQ(big.pixels, nullptr);
    // A progressive JPEG's coefficients (1200 x 900 x 3 x 2 bytes) over
    // libjpeg's own bound: refused, not attempted.
    EXPECT_EQ(decode("land_progressive.jpg", 400, 64u << 20, 1u << 20).status, pf::JpegDecodeStatus::TooLarge);
    EXPECT_EQ(decode("land_progressive.jpg", 400, 64u << 20, 16u << 20).status, pf::JpegDecodeStatus::Ok);
}

}  // namespace
