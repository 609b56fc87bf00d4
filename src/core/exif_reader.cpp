#include "core/exif_reader.hpp"

#include <exiv2/exiv2.hpp>
#include <exiv2/webpimage.hpp>

#include <cmath>
#include <ctime>
#include <mutex>
#include <new>
#include <string>

namespace pf {
namespace {

void (*g_sink)(LogLevel, const char*) = nullptr;

void exiv2_handler(int level, const char* msg) {
    if (g_sink == nullptr || msg == nullptr) return;
    LogLevel l = level >= Exiv2::LogMsg::error ? LogLevel::Error
                 : level == Exiv2::LogMsg::warn ? LogLevel::Warning
                 : level == Exiv2::LogMsg::info ? LogLevel::Info
                                                : LogLevel::Debug;
    // Exiv2 messages end with a newline: the server log adds its own.
    std::string m(msg);
    while (!m.empty() && (m.back() == '\n' || m.back() == '\r')) m.pop_back();
    g_sink(l, m.c_str());
}

std::optional<std::string> exif_string(const Exiv2::ExifData& d, const char* key) {
    auto it = d.findKey(Exiv2::ExifKey(key));
    if (it == d.end() || it->count() == 0) return std::nullopt;
    std::string s = it->toString();
    while (!s.empty() && (s.back() == '\0' || s.back() == ' ')) s.pop_back();
    if (s.empty()) return std::nullopt;
    return s;
}

std::optional<std::string> xmp_string(const Exiv2::XmpData& d, const char* key) {
    auto it = d.findKey(Exiv2::XmpKey(key));
    if (it == d.end() || it->count() == 0) return std::nullopt;
    std::string s = it->toString();
    if (s.empty()) return std::nullopt;
    return s;
}

void apply_subsec(LocalDateTime& t, const std::optional<std::string>& subsec) {
    if (!subsec || t.nanosecond != 0) return;
    int scale = 100000000, ns = 0;
    for (char c : *subsec) {
        if (c < '0' || c > '9') break;
        if (scale > 0) ns += (c - '0') * scale;
        scale /= 10;
    }
    t.nanosecond = ns;
}

// Degrees from an EXIF GPS rational triple (deg, min, sec).
std::optional<double> gps_degrees(const Exiv2::ExifData& d, const char* key) {
    auto it = d.findKey(Exiv2::ExifKey(key));
    if (it == d.end() || it->count() < 1) return std::nullopt;
    double v = 0, div = 1;
    for (long i = 0; i < it->count() && i < 3; i++) {
        Exiv2::Rational r = it->toRational(i);
        if (r.second == 0) {
            if (r.first == 0) continue;
            return std::nullopt;
        }
        v += static_cast<double>(r.first) / r.second / div;
        div *= 60;
    }
    return v;
}

// XMP "35,40.572N" or "35,40,34.32N" or "35.6762N".
std::optional<double> xmp_gps(const std::string& s) {
    if (s.empty()) return std::nullopt;
    char hemi = s.back();
    std::string body = s.substr(0, s.size() - 1);
    double parts[3] = {0, 0, 0};
    int n = 0;
    size_t start = 0;
    while (n < 3) {
        size_t comma = body.find(',', start);
        std::string p = body.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        char* end = nullptr;
        parts[n++] = std::strtod(p.c_str(), &end);
        if (end == p.c_str()) return std::nullopt;
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    double v = parts[0] + parts[1] / 60.0 + parts[2] / 3600.0;
    if (hemi == 'S' || hemi == 'W') v = -v;
    else if (hemi != 'N' && hemi != 'E') return std::nullopt;
    return v;
}

void extract(Exiv2::Image& img, ImageFacts& f, int64_t now) {
    const Exiv2::ExifData& exif = img.exifData();
    const Exiv2::XmpData& xmp = img.xmpData();

    struct Candidate {
        const char* date;
        const char* offset;
        const char* subsec;
        const char* source;
    };
    static const Candidate exif_order[] = {
        {"Exif.Photo.DateTimeOriginal", "Exif.Photo.OffsetTimeOriginal", "Exif.Photo.SubSecTimeOriginal", "exif_original"},
        {"Exif.Photo.DateTimeDigitized", "Exif.Photo.OffsetTimeDigitized", "Exif.Photo.SubSecTimeDigitized", "exif_digitized"},
        {"Exif.Image.DateTime", "Exif.Photo.OffsetTime", "Exif.Photo.SubSecTime", "exif_image"},
    };
    for (const Candidate& c : exif_order) {
        auto s = exif_string(exif, c.date);
        if (!s) continue;
        auto t = parse_exif_datetime(*s);
        if (!t || !is_plausible(*t, now)) continue;
        apply_subsec(*t, exif_string(exif, c.subsec));
        f.captured = t;
        if (auto off = exif_string(exif, c.offset)) f.offset_minutes = parse_utc_offset(*off);
        f.date_source = c.source;
        break;
    }
    if (!f.captured) {
        static const char* xmp_keys[] = {"Xmp.exif.DateTimeOriginal", "Xmp.photoshop.DateCreated", "Xmp.xmp.CreateDate"};
        for (const char* k : xmp_keys) {
            auto s = xmp_string(xmp, k);
            if (!s) continue;
            auto t = parse_exif_datetime(*s);
            if (!t || !is_plausible(*t, now)) continue;
            f.captured = t;
            // XMP dates carry their zone inline: "2023-12-25T12:34:56+01:00".
            if (s->size() > 19) {
                size_t z = s->find_first_of("+-Z", 19);
                if (z != std::string::npos) f.offset_minutes = parse_utc_offset(s->substr(z));
            }
            f.date_source = "xmp";
            break;
        }
    }

    auto lat = gps_degrees(exif, "Exif.GPSInfo.GPSLatitude");
    auto lon = gps_degrees(exif, "Exif.GPSInfo.GPSLongitude");
    if (lat && lon) {
        auto lat_ref = exif_string(exif, "Exif.GPSInfo.GPSLatitudeRef");
        auto lon_ref = exif_string(exif, "Exif.GPSInfo.GPSLongitudeRef");
        if (lat_ref && (*lat_ref)[0] == 'S') *lat = -*lat;
        if (lon_ref && (*lon_ref)[0] == 'W') *lon = -*lon;
        f.location = make_location(*lat, *lon);
    } else {
        auto xlat = xmp_string(xmp, "Xmp.exif.GPSLatitude");
        auto xlon = xmp_string(xmp, "Xmp.exif.GPSLongitude");
        if (xlat && xlon) {
            auto a = xmp_gps(*xlat), b = xmp_gps(*xlon);
            if (a && b) f.location = make_location(*a, *b);
        }
    }
}

// The still-image formats Exiv2 may parse for us. Exiv2 0.27 also claims
// QuickTime, RIFF/AVI, Matroska and ASF files as "images", through video
// parsers that over-read on hostile input (found by test/fuzz): whatever
// Exiv2 detects, only these types ever get to readMetadata().
bool is_still_image_type(int type) {
    namespace T = Exiv2::ImageType;
    switch (type) {
        case T::jpeg: case T::tiff: case T::png: case T::webp: case T::bmff: case T::gif:
        case T::cr2: case T::crw: case T::mrw: case T::orf: case T::raf: case T::rw2:
            return true;
        default:
            return false;
    }
}

template <typename Open>
ImageFacts read_with(Open open, int64_t now) {
    ImageFacts f;
    if (now == 0) now = static_cast<int64_t>(std::time(nullptr));
    // Every way Exiv2 can fail on a hostile file ends up here, as text.
    try {
        Exiv2::Image::AutoPtr img = open();
        if (img.get() == nullptr) {
            f.errors.push_back("metadata: unsupported image format");
            return f;
        }
        if (!is_still_image_type(img->imageType())) {
            f.errors.push_back("metadata: not a still-image container (Exiv2 type " +
                               std::to_string(img->imageType()) + "), not parsed");
            return f;
        }
        img->readMetadata();
        extract(*img, f, now);
    } catch (const Exiv2::AnyError& e) {
        f.errors.push_back(std::string("metadata unreadable: ") + e.what());
    } catch (const std::bad_alloc&) {
        f.errors.push_back("metadata unreadable: absurd sizes (allocation failed)");
    } catch (const std::exception& e) {
        f.errors.push_back(std::string("metadata unreadable: ") + e.what());
    }
    return f;
}

}  // namespace

void set_log_sink(void (*sink)(LogLevel, const char*)) { g_sink = sink; }

void init_metadata_library() {
    static std::once_flag once;
    std::call_once(once, [] {
        Exiv2::XmpParser::initialize();
        Exiv2::enableBMFF(true);
        Exiv2::LogMsg::setLevel(Exiv2::LogMsg::warn);
        Exiv2::LogMsg::setHandler(exiv2_handler);
    });
}

ImageFacts read_image_facts(const uint8_t* data, size_t n, int64_t now_epoch) {
    return read_with([&] { return Exiv2::ImageFactory::open(data, static_cast<long>(n)); }, now_epoch);
}

ImageFacts read_image_facts_path(const std::string& path, int64_t now_epoch) {
    return read_with([&] { return Exiv2::ImageFactory::open(path, false); }, now_epoch);
}

}  // namespace pf
