#include "core/exif_reader.hpp"

#include "core/digits.hpp"

#include <exiv2/exiv2.hpp>
#include <exiv2/webpimage.hpp>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <ctime>
#include <mutex>
#include <new>
#include <string>
#include <vector>

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
    std::string_view digits(*subsec);
    while (!digits.empty() && digits.front() == ' ') digits.remove_prefix(1);  // "  25" is ASCII padding
    for (char c : digits) {
        if (c < '0' || c > '9') break;
        if (scale > 0) ns += (c - '0') * scale;
        scale /= 10;
    }
    t.nanosecond = ns;
}

// Some phones (HTC) write GPS coordinates as text, "52,00000,50,00000,34,01180":
// read as exiftool reads them, the first three numbers as degrees, minutes, seconds.
std::optional<double> ascii_degrees(const std::string& s) {
    double parts[3] = {0, 0, 0};
    int n = 0;
    for (size_t i = 0; i < s.size() && n < 3;) {
        if ((s[i] >= '0' && s[i] <= '9') || (s[i] == '.' && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9')) {
            char* end = nullptr;
            parts[n++] = std::strtod(s.c_str() + i, &end);
            i = static_cast<size_t>(end - s.c_str());
        } else {
            i++;
        }
    }
    if (n == 0) return std::nullopt;
    return parts[0] + parts[1] / 60 + parts[2] / 3600;
}

// Degrees from an EXIF GPS rational triple (deg, min, sec). GPS rationals are
// unsigned: Exiv2's toRational() casts them to signed 32 bits, so a numerator
// above 2^31 (iPhones write seconds as 2564660003/100000000) turned negative
// and moved the position by a kilometre. The unsigned pair is read as such;
// only a tag stored with a signed type (a broken writer) goes through Rational.
std::optional<double> gps_degrees(const Exiv2::ExifData& d, const char* key) {
    auto it = d.findKey(Exiv2::ExifKey(key));
    if (it == d.end() || it->count() < 1) return std::nullopt;
    if (it->typeId() == Exiv2::asciiString) return ascii_degrees(it->toString());
    const auto* unsigned_value = dynamic_cast<const Exiv2::URationalValue*>(&it->value());
    double v = 0, div = 1;
    for (long i = 0; i < it->count() && i < 3; i++) {
        double num, den;
        if (unsigned_value != nullptr) {
            num = unsigned_value->value_.at(static_cast<size_t>(i)).first;
            den = unsigned_value->value_.at(static_cast<size_t>(i)).second;
        } else {
            Exiv2::Rational r = it->toRational(i);
            num = r.first;
            den = r.second;
        }
        if (den == 0) {
            if (num == 0) continue;
            return std::nullopt;
        }
        v += num / den / div;
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

// One candidate capture date as a block states it.
struct DateFound {
    LocalDateTime t;
    bool has_time = false;
    std::optional<int> offset;
    const char* source = "";
};

// "2016-09-10", "2016:09:10T11:12", "2016-09-10T11:12:13.5+02:00" (XMP allows
// dates without time and times without seconds); EXIF "YYYY:MM:DD HH:MM:SS".
std::optional<DateFound> parse_any_date(const std::string& s, int64_t now) {
    std::string_view v(s);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    DateFound d;
    std::string full(v);
    // A time without seconds: give it ":00" so the one parser reads it.
    if (full.size() >= 16 && full[10] == 'T' && full[13] == ':' && (full.size() == 16 || full[16] != ':'))
        full.insert(16, ":00");
    auto t = parse_exif_datetime(full);
    if (!t) return std::nullopt;
    d.t = *t;
    d.has_time = full.size() >= 19 && (full[10] == ' ' || full[10] == 'T') && full[13] == ':';
    if (d.has_time && full.size() > 19) {
        size_t z = full.find_first_of("+-Z", 19);
        if (z != std::string::npos) d.offset = parse_utc_offset(full.substr(z));
    }
    if (!is_plausible(d.t, now)) return std::nullopt;
    return d;
}

std::optional<std::string> iptc_string(const Exiv2::IptcData& d, const char* key) {
    auto it = d.findKey(Exiv2::IptcKey(key));
    if (it == d.end() || it->count() == 0) return std::nullopt;
    std::string s = it->toString();
    if (s.empty()) return std::nullopt;
    return s;
}

// IPTC TimeCreated "11:12:13+02:00" (Exiv2's spelling of HHMMSS±HHMM).
bool apply_iptc_time(const std::string& s, DateFound& d) {
    int h, m, sec;
    if (s.size() < 8 || !parse_fixed_digits(s, 0, 2, h) || s[2] != ':' || !parse_fixed_digits(s, 3, 2, m) ||
        s[5] != ':' || !parse_fixed_digits(s, 6, 2, sec) || h > 23 || m > 59 || sec > 60)
        return false;
    d.t.hour = h;
    d.t.minute = m;
    d.t.second = sec;
    d.t.nanosecond = 0;
    d.has_time = true;
    d.offset = s.size() > 8 ? parse_utc_offset(s.substr(8)) : std::nullopt;
    return true;
}

bool same_day(const LocalDateTime& a, const LocalDateTime& b) {
    return a.year == b.year && a.month == b.month && a.day == b.day;
}

// Vendor dates in maker notes, as Exiv2 decodes them, for files whose standard
// tags were lost (some RAW converters and old cameras): Pentax Date+Time
// (year as two bytes, then month, day; hour, minute, second), Minolta/Sony
// MinoltaDate+MinoltaTime (packed in a long: year<<16 | month<<8 | day), and the
// DateTimeOriginal of Nikon's and Samsung's preview IFDs. The camera's clock,
// without offset.
std::optional<DateFound> makernote_date(const Exiv2::ExifData& exif, int64_t now) {
    auto find = [&](const char* key) -> const Exiv2::Exifdatum* {
        auto it = exif.findKey(Exiv2::ExifKey(key));
        return it == exif.end() ? nullptr : &*it;
    };
    auto done = [&](const LocalDateTime& t) -> std::optional<DateFound> {
        if (!is_plausible(t, now)) return std::nullopt;
        DateFound d;
        d.t = t;
        d.has_time = true;
        d.source = "makernote";
        return d;
    };
    for (const char* group : {"Pentax", "PentaxDng"}) {
        const Exiv2::Exifdatum* date = find((std::string("Exif.") + group + ".Date").c_str());
        const Exiv2::Exifdatum* time = find((std::string("Exif.") + group + ".Time").c_str());
        if (date == nullptr || time == nullptr || date->count() < 4 || time->count() < 3) continue;
        LocalDateTime t;
        t.year = static_cast<int>(date->toLong(0) * 256 + date->toLong(1));
        t.month = static_cast<int>(date->toLong(2));
        t.day = static_cast<int>(date->toLong(3));
        t.hour = static_cast<int>(time->toLong(0));
        t.minute = static_cast<int>(time->toLong(1));
        t.second = static_cast<int>(time->toLong(2));
        if (auto d = done(t)) return d;
    }
    for (const char* group : {"MinoltaCsNew", "MinoltaCsOld", "Sony1MltCsNew", "Sony1MltCsOld"}) {
        const Exiv2::Exifdatum* date = find((std::string("Exif.") + group + ".MinoltaDate").c_str());
        const Exiv2::Exifdatum* time = find((std::string("Exif.") + group + ".MinoltaTime").c_str());
        if (date == nullptr || time == nullptr || date->count() < 1 || time->count() < 1) continue;
        uint32_t dv = static_cast<uint32_t>(date->toLong(0)), tv = static_cast<uint32_t>(time->toLong(0));
        LocalDateTime t;
        t.year = static_cast<int>(dv >> 16);
        t.month = static_cast<int>((dv >> 8) & 0xFF);
        t.day = static_cast<int>(dv & 0xFF);
        t.hour = static_cast<int>(tv >> 16);
        t.minute = static_cast<int>((tv >> 8) & 0xFF);
        t.second = static_cast<int>(tv & 0xFF);
        if (auto d = done(t)) return d;
    }
    for (const char* key : {"Exif.NikonPreview.DateTimeOriginal", "Exif.SamsungPreview.DateTimeOriginal"}) {
        auto s = exif_string(exif, key);
        if (!s) continue;
        if (auto t = parse_exif_datetime(*s))
            if (auto d = done(*t)) return d;
    }
    return std::nullopt;
}

// The capture date: creation dates from every block first (EXIF
// DateTimeOriginal, DateTimeDigitized; XMP exif:DateTimeOriginal,
// photoshop:DateCreated, xmp:CreateDate; IPTC DateCreated + TimeCreated), and
// only then IFD0 DateTime (ModifyDate): an editor's last save is the last
// metadata resort. A creation date without a time of day takes the time of
// IPTC TimeCreated or of a later candidate on the same day; with none, it
// stands at midnight (still better than an unrelated save date).
void pick_capture_date(const Exiv2::ExifData& exif, const Exiv2::XmpData& xmp, const Exiv2::IptcData& iptc,
                       ImageFacts& f, int64_t now) {
    std::vector<DateFound> found;
    struct ExifCandidate {
        const char* date;
        const char* offset;
        const char* subsec;
        const char* source;
    };
    static const ExifCandidate exif_creation[] = {
        {"Exif.Photo.DateTimeOriginal", "Exif.Photo.OffsetTimeOriginal", "Exif.Photo.SubSecTimeOriginal", "exif_original"},
        {"Exif.Photo.DateTimeDigitized", "Exif.Photo.OffsetTimeDigitized", "Exif.Photo.SubSecTimeDigitized", "exif_digitized"},
    };
    static const ExifCandidate exif_modify = {"Exif.Image.DateTime", "Exif.Photo.OffsetTime", "Exif.Photo.SubSecTime",
                                              "exif_image"};
    auto add_exif = [&](const ExifCandidate& c) {
        auto s = exif_string(exif, c.date);
        if (!s) return;
        auto t = parse_exif_datetime(*s);
        if (!t || !is_plausible(*t, now)) return;
        DateFound d;
        d.t = *t;
        d.has_time = true;
        apply_subsec(d.t, exif_string(exif, c.subsec));
        if (auto off = exif_string(exif, c.offset)) d.offset = parse_utc_offset(*off);
        d.source = c.source;
        found.push_back(d);
    };
    for (const ExifCandidate& c : exif_creation) add_exif(c);
    for (const char* k : {"Xmp.exif.DateTimeOriginal", "Xmp.photoshop.DateCreated", "Xmp.xmp.CreateDate"}) {
        auto s = xmp_string(xmp, k);
        if (!s) continue;
        if (auto d = parse_any_date(*s, now)) {
            d->source = "xmp";
            found.push_back(*d);
        }
    }
    auto iptc_time = iptc_string(iptc, "Iptc.Application2.TimeCreated");
    if (auto s = iptc_string(iptc, "Iptc.Application2.DateCreated")) {
        if (auto d = parse_any_date(*s, now)) {
            d->has_time = false;
            d->offset.reset();
            if (iptc_time) apply_iptc_time(*iptc_time, *d);
            d->source = "iptc";
            if (is_plausible(d->t, now)) found.push_back(*d);
        }
    }
    add_exif(exif_modify);
    if (found.empty()) {
        if (auto d = makernote_date(exif, now)) found.push_back(*d);
    }
    if (found.empty()) return;

    DateFound best = found.front();
    if (!best.has_time) {
        DateFound with_time = best;
        if (iptc_time && apply_iptc_time(*iptc_time, with_time)) {
            best = with_time;
        } else {
            for (size_t i = 1; i < found.size(); i++) {
                if (found[i].has_time && same_day(found[i].t, best.t)) {
                    const char* source = best.source;
                    best = found[i];
                    best.source = source;
                    break;
                }
            }
        }
    }
    f.captured = best.t;
    f.offset_minutes = best.offset;
    f.date_source = best.source;
}

bool contains(const std::string& hay, const char* needle) { return hay.find(needle) != std::string::npos; }

bool motion_photo_in_xmp(const Exiv2::XmpData& xmp, const std::string& packet) {
    for (const auto& d : xmp) {
        const std::string key = d.key();
        if ((contains(key, ".MotionPhoto") || contains(key, ".MicroVideo")) && !contains(key, "Version") &&
            !contains(key, "Offset") && !contains(key, "Presentation")) {
            std::string v = d.toString();
            if (v == "1" || v == "True" || v == "true") return true;
        }
    }
    return has_motion_photo_marker(reinterpret_cast<const uint8_t*>(packet.data()), packet.size());
}

void extract(const Exiv2::ExifData& exif, const Exiv2::XmpData& xmp, const Exiv2::IptcData& iptc,
             const std::string& xmp_packet, ImageFacts& f, int64_t now) {
    f.has_metadata = f.has_metadata || !exif.empty() || !xmp.empty() || !iptc.empty();
    f.motion_photo = f.motion_photo || motion_photo_in_xmp(xmp, xmp_packet);

    pick_capture_date(exif, xmp, iptc, f, now);

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

// Padding-only packets (a blank xpacket wrapper) are not worth a complaint.
bool has_xmp_content(const std::string& packet) {
    for (char c : packet)
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t' && c != '\0') return true;
    return false;
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

// Exiv2 throws its own errors, std::bad_alloc on absurd sizes, and other
// std::exceptions: each becomes a recorded metadata error, never a failure.
template <typename Fn>
void contained(ImageFacts& f, Fn&& fn) {
    try {
        fn();
    } catch (const Exiv2::AnyError& e) {
        f.errors.push_back(std::string("metadata unreadable: ") + e.what());
    } catch (const std::bad_alloc&) {
        f.errors.push_back("metadata unreadable: absurd sizes (allocation failed)");
    } catch (const std::exception& e) {
        f.errors.push_back(std::string("metadata unreadable: ") + e.what());
    }
}

template <typename Open>
ImageFacts read_with(Open open, int64_t now) {
    ImageFacts f;
    if (now == 0) now = static_cast<int64_t>(std::time(nullptr));
    // Every way Exiv2 can fail on a hostile file ends up here, as text.
    contained(f, [&] {
        Exiv2::Image::AutoPtr img = open();
        if (img.get() == nullptr) {
            f.errors.push_back("metadata: unsupported image format");
            return;
        }
        if (!is_still_image_type(img->imageType())) {
            f.errors.push_back("metadata: not a still-image container (Exiv2 type " +
                               std::to_string(img->imageType()) + "), not parsed");
            return;
        }
        img->readMetadata();
        // Exiv2 only warns about an XMP packet it cannot parse and leaves the
        // XMP empty; the docs promise has_errors for unreadable metadata.
        if (img->xmpData().empty() && has_xmp_content(img->xmpPacket())) {
            Exiv2::XmpData probe;
            if (Exiv2::XmpParser::decode(probe, img->xmpPacket()) != 0)
                f.errors.push_back("metadata: unreadable XMP packet (other blocks still used)");
        }
        extract(img->exifData(), img->xmpData(), img->iptcData(), img->xmpPacket(), f, now);
    });
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

ImageFacts read_exif_block(const std::string& tiff, const std::string& xmp_packet, int64_t now_epoch) {
    ImageFacts f;
    if (now_epoch == 0) now_epoch = static_cast<int64_t>(std::time(nullptr));
    contained(f, [&] {
        Exiv2::ExifData exif;
        Exiv2::XmpData xmp;
        if (!tiff.empty()) {
            if (tiff.size() > 0xFFFFFFFFu) throw std::length_error("EXIF block too large");
            Exiv2::ExifParser::decode(exif, reinterpret_cast<const Exiv2::byte*>(tiff.data()),
                                      static_cast<uint32_t>(tiff.size()));
        }
        if (!xmp_packet.empty() && Exiv2::XmpParser::decode(xmp, xmp_packet) != 0)
            f.errors.push_back("metadata: unreadable XMP packet (other blocks still used)");
        extract(exif, xmp, Exiv2::IptcData(), xmp_packet, f, now_epoch);
    });
    return f;
}

ImageFacts read_cr3_blocks(const std::string& ifd0, const std::string& exif_ifd, const std::string& gps_ifd,
                           int64_t now_epoch) {
    ImageFacts f;
    if (now_epoch == 0) now_epoch = static_cast<int64_t>(std::time(nullptr));
    contained(f, [&] {
        Exiv2::ExifData all;
        // Each block keeps its tags in its own IFD0: move them to the IFD they stand for.
        const std::pair<const std::string*, const char*> blocks[] = {{&ifd0, "Image"}, {&exif_ifd, "Photo"}, {&gps_ifd, "GPSInfo"}};
        for (const auto& b : blocks) {
            if (b.first->empty()) continue;
            if (b.first->size() > 0xFFFFFFFFu) throw std::length_error("EXIF block too large");
            Exiv2::ExifData one;
            Exiv2::ExifParser::decode(one, reinterpret_cast<const Exiv2::byte*>(b.first->data()),
                                      static_cast<uint32_t>(b.first->size()));
            for (const auto& d : one) {
                if (d.groupName() != "Image") continue;  // thumbnails, sub-IFDs of sub-IFDs
                all.add(Exiv2::ExifKey(d.tag(), b.second), &d.value());
            }
        }
        extract(all, Exiv2::XmpData(), Exiv2::IptcData(), "", f, now_epoch);
    });
    return f;
}

void find_png_metadata(const uint8_t* d, size_t n, std::string& exif, std::string& xmp) {
    exif.clear();
    xmp.clear();
    if (n < 8 || std::memcmp(d, "\x89PNG\r\n\x1a\n", 8) != 0) return;
    size_t off = 8;
    while (off + 12 <= n) {
        uint32_t len = (uint32_t(d[off]) << 24) | (uint32_t(d[off + 1]) << 16) | (uint32_t(d[off + 2]) << 8) | d[off + 3];
        const uint8_t* type = d + off + 4;
        if (len > n - off - 12) break;  // truncated: keep what was found
        const char* body = reinterpret_cast<const char*>(d + off + 8);
        if (std::memcmp(type, "eXIf", 4) == 0 && exif.empty()) {
            exif.assign(body, len);
        } else if (std::memcmp(type, "iTXt", 4) == 0 && xmp.empty()) {
            // keyword\0 compression-flag compression-method language\0 translated\0 text
            static const char kw[] = "XML:com.adobe.xmp";
            if (len > sizeof kw + 2 && std::memcmp(body, kw, sizeof kw) == 0 && body[sizeof kw] == 0) {
                size_t p = sizeof kw + 2;
                for (int nul = 0; nul < 2 && p < len; p++)
                    if (body[p] == 0) nul++;
                if (p <= len) xmp.assign(body + p, len - p);
            }
        } else if (std::memcmp(type, "IEND", 4) == 0) {
            break;
        }
        off += 12 + static_cast<size_t>(len);
    }
}

std::string find_embedded_exif(const uint8_t* data, size_t n) {
    std::string_view s(reinterpret_cast<const char*>(data), n);
    static const char kApp1[] = "\xFF\xE1";
    for (size_t at = s.find(std::string_view("Exif\0\0", 6)); at != std::string_view::npos;
         at = s.find(std::string_view("Exif\0\0", 6), at + 1)) {
        std::string_view tiff = s.substr(at + 6);
        if (tiff.substr(0, 4) != std::string_view("II*\0", 4) && tiff.substr(0, 4) != std::string_view("MM\0*", 4)) continue;
        // Inside a JPEG APP1 segment its length bounds the block; else take what follows (at most 64 KiB).
        size_t len = std::min<size_t>(tiff.size(), 64u << 10);
        if (at >= 4 && s.substr(at - 4, 2) == std::string_view(kApp1, 2)) {
            size_t seg = (static_cast<uint8_t>(s[at - 2]) << 8) | static_cast<uint8_t>(s[at - 1]);
            if (seg >= 8) len = std::min(len, seg - 8);
        }
        return std::string(tiff.substr(0, len));
    }
    return "";
}

std::string find_xmp_packet(const uint8_t* data, size_t n) {
    std::string_view s(reinterpret_cast<const char*>(data), n);
    size_t start = s.find("<x:xmpmeta");
    if (start == std::string_view::npos) return "";
    static const char kEnd[] = "</x:xmpmeta>";
    size_t end = s.find(kEnd, start);
    if (end == std::string_view::npos) return "";
    return std::string(s.substr(start, end + sizeof kEnd - 1 - start));
}

bool has_motion_photo_marker(const uint8_t* data, size_t n) {
    std::string_view s(reinterpret_cast<const char*>(data), n);
    // The XMP flags live in the APP1 segments at the start of the file; only
    // Samsung's "MotionPhoto_Data" marker sits later, before the appended MP4.
    // Searching the whole head for both names cost ~13 % of a photo's CPU.
    std::string_view app = s.substr(0, std::min<size_t>(s.size(), 512u << 10));
    for (const char* name : {"MotionPhoto", "MicroVideo"}) {
        for (size_t at = app.find(name); at != std::string_view::npos; at = app.find(name, at + 1)) {
            std::string_view rest = s.substr(at + std::strlen(name));
            // GCamera:MotionPhoto="1" (attribute) or <GCamera:MotionPhoto>1< (element)
            if (rest.substr(0, 4) == "=\"1\"" || rest.substr(0, 3) == ">1<" || rest.substr(0, 4) == "='1'") return true;
            if (rest.substr(0, 5) == "_Data") return true;
        }
    }
    return s.size() > app.size() && s.find("MotionPhoto_Data", app.size() - std::min<size_t>(app.size(), 15)) != std::string_view::npos;
}

}  // namespace pf
