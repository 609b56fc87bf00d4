#include "core/bmff_reader.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>

#include "core/errors.hpp"

namespace pf {

FdRandomAccess::FdRandomAccess(int fd) : fd_(fd), size_(0) {
    struct stat st;
    if (fstat(fd, &st) != 0) throw IoError("fstat", errno);
    size_ = static_cast<uint64_t>(st.st_size);
}

size_t FdRandomAccess::read_at(uint64_t off, void* buf, size_t n) const {
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd_, static_cast<char*>(buf) + done, n - done, static_cast<off_t>(off + done));
        if (r < 0) {
            if (errno == EINTR) continue;
            throw IoError("reading video boxes", errno);
        }
        if (r == 0) break;
        done += static_cast<size_t>(r);
    }
    return done;
}

size_t MemoryRandomAccess::read_at(uint64_t off, void* buf, size_t n) const {
    // n == 0 comes with buf == nullptr (an empty box's vector): memcpy must not see it.
    if (n == 0 || off >= n_) return 0;
    size_t k = static_cast<size_t>(std::min<uint64_t>(n, n_ - off));
    std::memcpy(buf, data_ + off, k);
    return k;
}

namespace {

constexpr uint64_t kMacToUnix = 2082844800ULL;  // seconds from 1904-01-01 to 1970-01-01
constexpr size_t kMaxSmallBox = 1 << 20;       // keys/ilst/udta entries we load whole
constexpr int kMaxDepth = 8;
constexpr int kMaxBoxesPerLevel = 100000;

uint32_t be32(const uint8_t* p) { return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]; }
uint64_t be64(const uint8_t* p) { return (uint64_t(be32(p)) << 32) | be32(p + 4); }
uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

struct Box {
    uint64_t start;     // offset of the header
    uint64_t body;      // offset of the payload
    uint64_t end;       // one past the last byte
    char type[5];
};

// Box iteration shared by the video and the HEIF readers.
class BoxReader {
public:
    BoxReader(const RandomAccess& in, std::vector<std::string>& errors) : in_(in), errors_(errors) {}

    // Calls fn for each box in [start, end). Stops on a malformed header.
    void each(uint64_t start, uint64_t end, const std::function<void(const Box&)>& fn) {
        uint64_t off = start;
        for (int count = 0; off + 8 <= end && count < kMaxBoxesPerLevel; count++) {
            uint8_t h[16];
            if (in_.read_at(off, h, 8) < 8) return;
            uint64_t size = be32(h);
            uint64_t hdr = 8;
            if (size == 1) {
                if (in_.read_at(off + 8, h + 8, 8) < 8) return;
                size = be64(h + 8);
                hdr = 16;
            } else if (size == 0) {
                size = end - off;  // extends to the end of its container
            }
            Box b{off, off + hdr, 0, {0}};
            std::memcpy(b.type, h + 4, 4);
            if (size < hdr) {
                errors_.push_back(std::string("invalid size of box '") + printable(b.type) + "'");
                return;
            }
            if (size > end - off) {
                errors_.push_back(std::string("box '") + printable(b.type) + "' is truncated");
                size = end - off;  // read what is there; stop after it
            }
            b.end = off + size;
            fn(b);
            off = b.end;  // always moves forward: no loops
        }
    }

    // The payload of a small box (empty when larger than max).
    std::vector<uint8_t> load(const Box& b, size_t max = kMaxSmallBox) {
        uint64_t n = b.end - b.body;
        if (n == 0 || n > max) return {};
        std::vector<uint8_t> v(static_cast<size_t>(n));
        v.resize(in_.read_at(b.body, v.data(), v.size()));
        return v;
    }

    static std::string printable(const char* type) {
        std::string s;
        for (int i = 0; i < 4 && type[i]; i++) {
            unsigned char c = static_cast<unsigned char>(type[i]);
            if (c >= 0x20 && c < 0x7f) {
                s.push_back(static_cast<char>(c));
            } else {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\x%02X", c);
                s += buf;
            }
        }
        return s;
    }

protected:
    const RandomAccess& in_;
    std::vector<std::string>& errors_;
};

bool is(const Box& b, const char* type) { return std::memcmp(b.type, type, 4) == 0; }

class Walker : public BoxReader {
public:
    Walker(const RandomAccess& in, VideoFacts& f) : BoxReader(in, f.errors), f_(f) {}

    void moov(const Box& m) {
        each(m.body, m.end, [&](const Box& b) {
            if (is(b, "mvhd")) mvhd(b);
            else if (is(b, "udta")) udta(b, 1);
            else if (is(b, "meta")) meta(b);
        });
    }

    void mvhd(const Box& b) {
        uint8_t p[20];
        size_t n = in_.read_at(b.body, p, sizeof p);
        if (n < 8) return;
        uint64_t t = 0;
        if (p[0] == 1) {  // version 1: 64-bit times
            if (n < 12) return;
            t = be64(p + 4);
        } else {
            t = be32(p + 4);
        }
        // 0 means "not set"; anything before 1970 is a camera whose clock was never set.
        // Beyond year 9999 is garbage (and would overflow the arithmetic).
        if (t > kMacToUnix && t < kMacToUnix + 253402300800ULL)
            f_.creation_utc_epoch = static_cast<int64_t>(t - kMacToUnix);
    }

    // QuickTime user-data text: 16-bit length, 16-bit language, text.
    std::optional<std::string> udta_text(const Box& b) {
        auto v = load(b, 4096);
        if (v.size() <= 4) return std::nullopt;
        size_t len = std::min<size_t>(be16(v.data()), v.size() - 4);
        return std::string(reinterpret_cast<char*>(v.data()) + 4, len);
    }

    void udta(const Box& u, int depth) {
        if (depth > kMaxDepth) return;
        each(u.body, u.end, [&](const Box& b) {
            if (is(b, "\xA9xyz") && !f_.location) {
                if (auto t = udta_text(b)) f_.location = parse_iso6709(*t);
            } else if (is(b, "\xA9" "day") && !f_.day_local) {
                if (auto t = udta_text(b)) day(*t);
            } else if (is(b, "date") && !f_.day_local) {
                date_box(b);
            } else if (is(b, "loci") && !f_.location) {
                loci(b);
            } else if (is(b, "meta")) {
                meta(b);
            }
        });
    }

    // udta/date (Samsung and other phones' 3GP/MP4; exiftool: DateTimeOriginal):
    // "2011-01-01T12:00:00+0100", as a bare string or as QuickTime text.
    void date_box(const Box& b) {
        auto v = load(b, 256);
        std::string s(v.begin(), v.end());
        if (s.size() > 4 && (s[0] < '0' || s[0] > '9')) {
            if (auto t = udta_text(b)) s = *t;
        }
        while (!s.empty() && (s.back() == '\0' || s.back() == ' ')) s.pop_back();
        day(s);
    }

    // 3GPP udta/loci (TS 26.244): flags, language, a NUL-terminated name (UTF-8,
    // or UTF-16 after a BOM and ending in two NULs), role, then longitude,
    // latitude and altitude as signed 16.16 fixed point.
    void loci(const Box& b) {
        auto v = load(b, 4096);
        size_t p = 6;
        if (v.size() < p) return;
        if (v.size() >= p + 2 && v[p] == 0xFE && v[p + 1] == 0xFF) {
            p += 2;
            while (p + 1 < v.size() && (v[p] != 0 || v[p + 1] != 0)) p += 2;
            p += 2;
        } else {
            while (p < v.size() && v[p] != 0) p++;
            p += 1;
        }
        p += 1;  // role
        if (p + 8 > v.size()) return;
        auto fixed = [&](size_t at) { return static_cast<int32_t>(be32(v.data() + at)) / 65536.0; };
        f_.location = make_location(fixed(p + 4), fixed(p));
    }

    // QuickTime's moov/meta has no version/flags; ISO's udta/meta does.
    void meta(const Box& m) {
        uint8_t p[12];
        if (in_.read_at(m.body, p, sizeof p) < 12) return;
        uint64_t first = std::memcmp(p + 4, "hdlr", 4) == 0 ? m.body : m.body + 4;
        std::vector<std::string> keys;
        each(first, m.end, [&](const Box& b) {
            if (is(b, "keys")) {
                auto v = load(b);
                if (v.size() < 8) return;
                uint32_t count = be32(v.data() + 4);
                size_t off = 8;
                for (uint32_t i = 0; i < count && off + 8 <= v.size(); i++) {
                    uint32_t sz = be32(v.data() + off);
                    if (sz < 8 || off + sz > v.size()) break;
                    keys.emplace_back(reinterpret_cast<char*>(v.data()) + off + 8, sz - 8);
                    off += sz;
                }
            } else if (is(b, "ilst")) {
                ilst(b, keys);
            }
        });
    }

    // Items are either indexes into `keys` (Apple mdta) or four-character codes
    // (iTunes-style: ©day, ©xyz).
    void ilst(const Box& l, const std::vector<std::string>& keys) {
        each(l.body, l.end, [&](const Box& item) {
            enum { None, Date, Day, Loc } what = None;
            uint32_t index = be32(reinterpret_cast<const uint8_t*>(item.type));
            if (is(item, "\xA9" "day")) {
                what = Day;
            } else if (is(item, "\xA9xyz")) {
                what = Loc;
            } else if (index != 0 && index <= keys.size()) {
                const std::string& key = keys[index - 1];
                if (key == "com.apple.quicktime.creationdate") what = Date;
                else if (key == "com.apple.quicktime.location.ISO6709") what = Loc;
            }
            if (what == None) return;
            each(item.body, item.end, [&](const Box& d) {
                if (!is(d, "data")) return;
                auto v = load(d);
                if (v.size() <= 8) return;
                std::string s(reinterpret_cast<char*>(v.data()) + 8, v.size() - 8);
                while (!s.empty() && s.back() == '\0') s.pop_back();
                if (what == Date) creationdate(s);
                else if (what == Day) { if (!f_.day_local) day(s); }
                else if (!f_.location) f_.location = parse_iso6709(s);
            });
        });
    }

    static std::optional<int> trailing_offset(const std::string& s) {
        if (s.size() <= 19) return std::nullopt;
        size_t z = s.find_first_of("+-Z", 19);
        if (z == std::string::npos) return std::nullopt;
        return parse_utc_offset(s.substr(z));
    }

    void creationdate(const std::string& s) {
        auto t = parse_exif_datetime(s);
        if (!t) {
            f_.errors.push_back("unreadable com.apple.quicktime.creationdate: " + s);
            return;
        }
        f_.apple_local = t;
        f_.apple_offset_minutes = trailing_offset(s);
    }

    void day(const std::string& s) {
        auto t = parse_exif_datetime(s);
        // A bare year ("2023") says too little to date a file by.
        if (!t || s.size() < 19) return;
        f_.day_local = t;
        f_.day_offset_minutes = trailing_offset(s);
    }

private:
    VideoFacts& f_;
};

}  // namespace

std::optional<GeoPoint> parse_iso6709(const std::string& s) {
    // Numbers are delimited by their signs: +lat+lon[+alt][CRS]/
    std::vector<double> v;
    size_t i = 0;
    while (i < s.size() && v.size() < 2) {
        if (s[i] != '+' && s[i] != '-') break;
        size_t j = i + 1;
        while (j < s.size() && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.')) j++;
        if (j == i + 1) break;
        v.push_back(std::strtod(s.substr(i, j - i).c_str(), nullptr));
        i = j;
    }
    if (v.size() < 2) return std::nullopt;
    return make_location(v[0], v[1]);
}

VideoFacts read_video_facts(const RandomAccess& in) {
    VideoFacts f;
    Walker w(in, f);
    bool seen_moov = false;
    w.each(0, in.size(), [&](const Box& b) {
        if (std::memcmp(b.type, "moov", 4) == 0 && !seen_moov) {
            seen_moov = true;
            w.moov(b);
        }
    });
    if (!seen_moov) f.errors.push_back("no 'moov' box: video metadata unavailable");
    return f;
}

// ---------------------------------------------------------------- HEIF items

namespace {

constexpr size_t kMaxItemBytes = 16u << 20;  // an EXIF/XMP item larger than this is not metadata

// Big-endian cursor over a loaded box payload; every read is bounds-checked.
class Cursor {
public:
    Cursor(const std::vector<uint8_t>& v, size_t pos = 0) : v_(v), pos_(pos) {}
    bool ok() const { return ok_; }
    size_t pos() const { return pos_; }
    uint64_t uint(int bytes) {  // bytes ∈ {0, 1, 2, 4, 8}
        if (bytes == 0) return 0;
        if (pos_ + static_cast<size_t>(bytes) > v_.size()) {
            ok_ = false;
            pos_ = v_.size();
            return 0;
        }
        uint64_t r = 0;
        for (int i = 0; i < bytes; i++) r = (r << 8) | v_[pos_ + static_cast<size_t>(i)];
        pos_ += static_cast<size_t>(bytes);
        return r;
    }
    std::string cstring() {
        std::string s;
        while (pos_ < v_.size() && v_[pos_] != 0) s.push_back(static_cast<char>(v_[pos_++]));
        if (pos_ < v_.size()) pos_++;
        else ok_ = false;
        return s;
    }
    std::string fourcc() {
        if (pos_ + 4 > v_.size()) {
            ok_ = false;
            pos_ = v_.size();
            return "";
        }
        std::string s(reinterpret_cast<const char*>(v_.data()) + pos_, 4);
        pos_ += 4;
        return s;
    }

private:
    const std::vector<uint8_t>& v_;
    size_t pos_;
    bool ok_ = true;
};

struct Extent {
    uint64_t offset, length;
};
struct ItemLocation {
    int construction_method = 0;  // 0: file offset, 1: inside idat
    std::vector<Extent> extents;
};

struct HeifItem {
    uint32_t id = 0;
    std::string type;          // "Exif", "mime", "hvc1", ...
    std::string content_type;  // for mime items
};

class HeifReader : public BoxReader {
public:
    HeifReader(const RandomAccess& in, HeifMetadata& out) : BoxReader(in, out.errors), out_(out) {}

    void run() {
        bool seen = false;
        each(0, in_.size(), [&](const Box& b) {
            if (!seen && is(b, "meta")) {
                seen = true;
                meta(b);
            }
        });
        if (!seen) errors_.push_back("no file-level 'meta' box: no HEIF metadata items");
    }

private:
    void meta(const Box& m) {
        std::vector<HeifItem> items;
        std::vector<std::pair<uint32_t, ItemLocation>> locs;
        uint64_t idat_body = 0, idat_end = 0;
        each(m.body + 4, m.end, [&](const Box& b) {  // meta is a full box: skip version/flags
            if (is(b, "iinf")) iinf(b, items);
            else if (is(b, "iloc")) iloc(b, locs);
            else if (is(b, "idat")) {
                idat_body = b.body;
                idat_end = b.end;
            }
        });
        for (const HeifItem& it : items) {
            bool exif = it.type == "Exif";
            bool xmp = it.type == "mime" && it.content_type == "application/rdf+xml";
            if (!exif && !xmp) continue;
            if ((exif && !out_.exif.empty()) || (xmp && !out_.xmp.empty())) continue;
            const ItemLocation* loc = nullptr;
            for (auto& l : locs)
                if (l.first == it.id) loc = &l.second;
            if (loc == nullptr) {
                errors_.push_back("HEIF item " + std::to_string(it.id) + " has no location");
                continue;
            }
            std::string data;
            if (!item_data(*loc, idat_body, idat_end, data)) continue;
            if (exif) exif_payload(data);
            else out_.xmp = data;
        }
    }

    void iinf(const Box& b, std::vector<HeifItem>& items) {
        uint8_t p[4];
        if (in_.read_at(b.body, p, 4) < 4) return;
        uint64_t first = b.body + 4 + (p[0] == 0 ? 2 : 4);  // entry_count: 16 bits in v0, else 32
        each(first, b.end, [&](const Box& e) {
            if (!is(e, "infe")) return;
            auto v = load(e, 4096);
            Cursor c(v);
            int version = static_cast<int>(c.uint(1));
            c.uint(3);
            if (version < 2) return;  // v0/v1 entries carry no item type
            HeifItem it;
            it.id = static_cast<uint32_t>(c.uint(version == 2 ? 2 : 4));
            c.uint(2);  // protection index
            it.type = c.fourcc();
            c.cstring();  // item name
            if (it.type == "mime") it.content_type = c.cstring();
            if (c.ok() || it.type == "Exif") items.push_back(it);
        });
    }

    void iloc(const Box& b, std::vector<std::pair<uint32_t, ItemLocation>>& locs) {
        auto v = load(b);
        Cursor c(v);
        int version = static_cast<int>(c.uint(1));
        c.uint(3);
        if (version > 2) {
            errors_.push_back("unsupported iloc version " + std::to_string(version));
            return;
        }
        int sizes = static_cast<int>(c.uint(1));
        int offset_size = sizes >> 4, length_size = sizes & 15;
        sizes = static_cast<int>(c.uint(1));
        int base_offset_size = sizes >> 4, index_size = version >= 1 ? sizes & 15 : 0;
        auto valid = [](int n) { return n == 0 || n == 4 || n == 8; };
        if (!valid(offset_size) || !valid(length_size) || !valid(base_offset_size) || !valid(index_size)) {
            errors_.push_back("invalid field sizes in iloc");
            return;
        }
        uint64_t count = c.uint(version < 2 ? 2 : 4);
        for (uint64_t i = 0; i < count && c.ok(); i++) {
            uint32_t id = static_cast<uint32_t>(c.uint(version < 2 ? 2 : 4));
            ItemLocation loc;
            if (version >= 1) loc.construction_method = static_cast<int>(c.uint(2) & 15);
            c.uint(2);  // data_reference_index (0: this file)
            uint64_t base = c.uint(base_offset_size);
            uint64_t extents = c.uint(2);
            for (uint64_t e = 0; e < extents && c.ok(); e++) {
                if (index_size > 0) c.uint(index_size);
                uint64_t off = c.uint(offset_size);
                uint64_t len = c.uint(length_size);
                loc.extents.push_back({base + off, len});
            }
            if (c.ok()) locs.emplace_back(id, std::move(loc));
        }
        if (!c.ok()) errors_.push_back("iloc box is truncated");
    }

    bool item_data(const ItemLocation& loc, uint64_t idat_body, uint64_t idat_end, std::string& data) {
        if (loc.construction_method > 1) {
            errors_.push_back("HEIF item construction method " + std::to_string(loc.construction_method) +
                              " is not supported");
            return false;
        }
        for (const Extent& e : loc.extents) {
            uint64_t start, limit;
            if (loc.construction_method == 1) {
                if (idat_end == 0) {
                    errors_.push_back("HEIF item refers to a missing idat box");
                    return false;
                }
                start = idat_body + e.offset;
                limit = idat_end;
            } else {
                start = e.offset;
                limit = in_.size();
            }
            if (start < e.offset || start > limit) {  // overflow or outside
                errors_.push_back("HEIF item extent lies outside the file");
                return false;
            }
            uint64_t len = e.length == 0 ? limit - start : e.length;  // 0: to the end
            if (len > limit - start) {
                errors_.push_back("HEIF item extent lies outside the file");
                return false;
            }
            if (data.size() + len > kMaxItemBytes) {
                errors_.push_back("HEIF metadata item is implausibly large");
                return false;
            }
            size_t old = data.size();
            data.resize(old + static_cast<size_t>(len));
            if (in_.read_at(start, &data[old], static_cast<size_t>(len)) < len) {
                errors_.push_back("HEIF item extent is truncated");
                return false;
            }
        }
        return true;
    }

    // An Exif item starts with a 32-bit offset to the TIFF header (after it),
    // normally 6, skipping "Exif\0\0".
    void exif_payload(const std::string& d) {
        auto is_tiff = [&](size_t at) {
            return at + 4 <= d.size() && (d.compare(at, 4, std::string("II*\0", 4)) == 0 ||
                                          d.compare(at, 4, std::string("MM\0*", 4)) == 0);
        };
        if (d.size() >= 8) {
            uint64_t skip = be32(reinterpret_cast<const uint8_t*>(d.data()));
            if (skip < d.size() - 4 && is_tiff(4 + static_cast<size_t>(skip))) {
                out_.exif = d.substr(4 + static_cast<size_t>(skip));
                return;
            }
        }
        // Writers that got the offset wrong: look for the TIFF header near the start.
        for (size_t at = 0; at < 64 && at < d.size(); at++) {
            if (is_tiff(at)) {
                out_.exif = d.substr(at);
                return;
            }
        }
        errors_.push_back("HEIF Exif item holds no TIFF header");
    }

    HeifMetadata& out_;
};

}  // namespace

HeifMetadata read_heif_metadata(const RandomAccess& in) {
    HeifMetadata m;
    HeifReader(in, m).run();
    return m;
}

// ---------------------------------------------------------------- CR3

Cr3Metadata read_cr3_metadata(const RandomAccess& in) {
    static const uint8_t kCanonUuid[16] = {0x85, 0xc0, 0xb6, 0x87, 0x82, 0x0f, 0x11, 0xe0,
                                           0x81, 0x11, 0xf4, 0xce, 0x46, 0x2b, 0x6a, 0x48};
    Cr3Metadata m;
    BoxReader r(in, m.errors);
    r.each(0, in.size(), [&](const Box& top) {
        if (!is(top, "moov")) return;
        r.each(top.body, top.end, [&](const Box& u) {
            uint8_t id[16];
            if (!is(u, "uuid") || u.end - u.body < 16 || in.read_at(u.body, id, 16) != 16 ||
                std::memcmp(id, kCanonUuid, 16) != 0)
                return;
            r.each(u.body + 16, u.end, [&](const Box& c) {
                std::string* dst = is(c, "CMT1") ? &m.ifd0 : is(c, "CMT2") ? &m.exif : is(c, "CMT4") ? &m.gps : nullptr;
                if (dst == nullptr || !dst->empty()) return;
                auto v = r.load(c);
                dst->assign(v.begin(), v.end());
            });
        });
    });
    return m;
}

}  // namespace pf
