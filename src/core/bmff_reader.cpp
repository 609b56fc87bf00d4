#include "core/bmff_reader.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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

class Walker {
public:
    Walker(const RandomAccess& in, VideoFacts& f) : in_(in), f_(f) {}

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
                f_.errors.push_back(std::string("invalid size of box '") + b.type + "'");
                return;
            }
            if (size > end - off) {
                f_.errors.push_back(std::string("box '") + b.type + "' is truncated");
                size = end - off;  // read what is there; stop after it
            }
            b.end = off + size;
            fn(b);
            off = b.end;  // always moves forward: no loops
        }
    }

    std::vector<uint8_t> load(const Box& b) {
        uint64_t n = b.end - b.body;
        if (n == 0 || n > kMaxSmallBox) return {};
        std::vector<uint8_t> v(static_cast<size_t>(n));
        v.resize(in_.read_at(b.body, v.data(), v.size()));
        return v;
    }

    void moov(const Box& m) {
        std::vector<std::string> keys;
        each(m.body, m.end, [&](const Box& b) {
            if (std::memcmp(b.type, "mvhd", 4) == 0) mvhd(b);
            else if (std::memcmp(b.type, "udta", 4) == 0) udta(b, 1);
            else if (std::memcmp(b.type, "meta", 4) == 0) meta(b);
        });
    }

    void mvhd(const Box& b) {
        uint8_t p[20];
        size_t n = in_.read_at(b.body, p, sizeof p);
        if (n < 8) return;
        uint64_t t = 0;
        if (p[0] == 1) {
            if (n < 12) return;
            t = be64(p + 4);
        } else {
            t = be32(p + 4);
        }
        // 0 means "not set"; anything before 1970 is a camera whose clock was never set.
        if (t > kMacToUnix) f_.creation_utc_epoch = static_cast<int64_t>(t - kMacToUnix);
    }

    void udta(const Box& u, int depth) {
        if (depth > kMaxDepth) return;
        each(u.body, u.end, [&](const Box& b) {
            if (std::memcmp(b.type, "\xA9xyz", 4) == 0 && !f_.location) {
                auto v = load(b);
                if (v.size() > 4) {
                    size_t len = std::min<size_t>(be16(v.data()), v.size() - 4);
                    f_.location = parse_iso6709(std::string(reinterpret_cast<char*>(v.data()) + 4, len));
                }
            } else if (std::memcmp(b.type, "meta", 4) == 0) {
                meta(b);
            }
        });
    }

    // QuickTime's moov/meta has no version/flags; ISO's udta/meta does.
    void meta(const Box& m) {
        uint8_t p[12];
        if (in_.read_at(m.body, p, sizeof p) < 12) return;
        uint64_t first = std::memcmp(p + 4, "hdlr", 4) == 0 ? m.body : m.body + 4;
        std::vector<std::string> keys;
        each(first, m.end, [&](const Box& b) {
            if (std::memcmp(b.type, "keys", 4) == 0) {
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
            } else if (std::memcmp(b.type, "ilst", 4) == 0) {
                ilst(b, keys);
            }
        });
    }

    void ilst(const Box& l, const std::vector<std::string>& keys) {
        each(l.body, l.end, [&](const Box& item) {
            uint32_t index = be32(reinterpret_cast<const uint8_t*>(item.type));
            if (index == 0 || index > keys.size()) return;
            const std::string& key = keys[index - 1];
            bool date = key == "com.apple.quicktime.creationdate";
            bool loc = key == "com.apple.quicktime.location.ISO6709";
            if (!date && !loc) return;
            each(item.body, item.end, [&](const Box& d) {
                if (std::memcmp(d.type, "data", 4) != 0) return;
                auto v = load(d);
                if (v.size() <= 8) return;
                std::string s(reinterpret_cast<char*>(v.data()) + 8, v.size() - 8);
                if (date) creationdate(s);
                else if (!f_.location) f_.location = parse_iso6709(s);
            });
        });
    }

    void creationdate(const std::string& s) {
        auto t = parse_exif_datetime(s);
        if (!t) {
            f_.errors.push_back("unreadable com.apple.quicktime.creationdate: " + s);
            return;
        }
        f_.apple_local = t;
        if (s.size() > 19) {
            size_t z = s.find_first_of("+-Z", 19);
            if (z != std::string::npos) f_.apple_offset_minutes = parse_utc_offset(s.substr(z));
        }
    }

private:
    const RandomAccess& in_;
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

}  // namespace pf
