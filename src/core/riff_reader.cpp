// AVI (RIFF) dates: IDIT, strd "AVIF" EXIF, INFO ICRD. See video_containers.hpp.
#include <cctype>
#include <cstring>
#include <string>
#include <vector>

#include "core/exif_reader.hpp"
#include "core/video_containers.hpp"

namespace pf {
namespace {

constexpr int kMaxChunks = 4096;     // per list: AVI headers hold a few dozen
constexpr int kMaxDepth = 4;         // RIFF > hdrl > strl > strd
constexpr size_t kMaxLoad = 1 << 16;  // IDIT/ICRD strings and strd blocks are small

uint32_t le32(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24); }

int month_number(const std::string& m) {
    static const char* names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
    std::string l;
    for (char c : m.substr(0, 3)) l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    for (int i = 0; i < 12; i++)
        if (l == names[i] && m.size() >= 3) return i + 1;
    return 0;
}

std::vector<std::string> words(const std::string& s) {
    std::vector<std::string> w;
    std::string cur;
    for (char c : s) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0') {
            if (!cur.empty()) w.push_back(cur);
            cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    if (!cur.empty()) w.push_back(cur);
    return w;
}

// Reads unsigned decimal numbers separated by anything else, as sscanf would.
std::vector<int> numbers(const std::string& s, size_t max) {
    std::vector<int> out;
    size_t i = 0;
    while (i < s.size() && out.size() < max) {
        if (s[i] >= '0' && s[i] <= '9') {
            long v = 0;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
                if (v < 100000) v = v * 10 + (s[i] - '0');
                i++;
            }
            out.push_back(static_cast<int>(v));
        } else {
            i++;
        }
    }
    return out;
}

bool valid(const LocalDateTime& t) {
    return t.year >= 1900 && t.year <= 9999 && t.month >= 1 && t.month <= 12 && t.day >= 1 && t.day <= 31 &&
           t.hour >= 0 && t.hour <= 23 && t.minute >= 0 && t.minute <= 59 && t.second >= 0 && t.second <= 60;
}

class RiffWalker {
public:
    RiffWalker(const RandomAccess& in, VideoFacts& f) : in_(in), f_(f) {}

    void list(uint64_t start, uint64_t end, int depth) {
        if (depth > kMaxDepth) return;
        uint64_t off = start;
        for (int n = 0; n < kMaxChunks && off + 8 <= end; n++) {
            uint8_t h[12];
            if (in_.read_at(off, h, 8) < 8) return;
            uint64_t size = le32(h + 4);
            uint64_t body = off + 8;
            if (size > end - body) {
                f_.errors.push_back("AVI chunk is truncated");
                size = end - body;
            }
            if (std::memcmp(h, "LIST", 4) == 0 && size >= 4 && in_.read_at(body, h + 8, 4) == 4) {
                // Only the header lists: never the movie data.
                if (std::memcmp(h + 8, "hdrl", 4) == 0 || std::memcmp(h + 8, "strl", 4) == 0 ||
                    std::memcmp(h + 8, "INFO", 4) == 0)
                    list(body + 4, body + size, depth + 1);
            } else if (std::memcmp(h, "IDIT", 4) == 0 && !idit_) {
                idit_ = parse_riff_date(text(body, size));
            } else if (std::memcmp(h, "ICRD", 4) == 0 && !icrd_) {
                std::string s = text(body, size);
                // A bare date ("2011-01-01") or year says too little: only a date with a time.
                if (auto t = parse_riff_date(s); t && s.find(':') != std::string::npos) icrd_ = t;
            } else if (std::memcmp(h, "strd", 4) == 0 && !strd_read_) {
                strd(body, size);
            }
            off = body + size + (size & 1);  // chunks are padded to even sizes
        }
    }

    void finish() {
        if (idit_) {
            f_.camera_local = idit_;
        } else if (exif_.captured) {
            f_.camera_local = exif_.captured;
            f_.camera_offset_minutes = exif_.offset_minutes;
        } else if (icrd_) {
            f_.camera_local = icrd_;
        }
        if (exif_.location) f_.location = exif_.location;
        f_.errors.insert(f_.errors.end(), exif_.errors.begin(), exif_.errors.end());
    }

private:
    std::string text(uint64_t body, uint64_t size) {
        std::string s(static_cast<size_t>(std::min<uint64_t>(size, 256)), '\0');
        s.resize(in_.read_at(body, &s[0], s.size()));
        return s;
    }

    // strd "AVIF": a little-endian EXIF IFD0 at offset 8 of the chunk data,
    // whose value offsets count from that IFD (exiftool's reading of these
    // cameras' files). Exiv2 wants offsets from a TIFF header: the block D
    // (from the IFD on) becomes header + D[8..] + D, so every offset X >= 8
    // still lands on D[X] and the IFD itself is the copy at the end.
    void strd(uint64_t body, uint64_t size) {
        if (size < 24 || size > kMaxLoad) return;
        std::string d(static_cast<size_t>(size), '\0');
        if (in_.read_at(body, &d[0], d.size()) != d.size()) return;
        if (d.compare(0, 4, "AVIF") != 0) return;
        strd_read_ = true;
        std::string ifd = d.substr(8);
        uint32_t at = static_cast<uint32_t>(ifd.size());
        std::string tiff = std::string("II*\0", 4) + std::string{char(at), char(at >> 8), char(at >> 16), char(at >> 24)} +
                           ifd.substr(8) + ifd;
        exif_ = read_exif_block(tiff, "", 0);
    }

    const RandomAccess& in_;
    VideoFacts& f_;
    std::optional<LocalDateTime> idit_, icrd_;
    ImageFacts exif_;
    bool strd_read_ = false;
};

}  // namespace

std::optional<LocalDateTime> parse_riff_date(const std::string& s) {
    LocalDateTime t;
    std::vector<std::string> w = words(s);
    if (w.size() >= 5 && month_number(w[1]) != 0) {
        // "Mon Mar 10 15:04:43 2003"
        auto hms = numbers(w[3], 3);
        auto day = numbers(w[2], 1), year = numbers(w[4], 1);
        if (hms.size() < 2 || day.empty() || year.empty()) return std::nullopt;
        t.year = year[0];
        t.month = month_number(w[1]);
        t.day = day[0];
        t.hour = hms[0];
        t.minute = hms[1];
        t.second = hms.size() > 2 ? hms[2] : 0;
    } else {
        // "2001/ 1/27  1:42PM", "2005/11/28/ 09:19", "2002-12-16  15:35:01", "2011-01-01"
        auto v = numbers(s, 6);
        if (v.size() < 3 || v[0] < 1900) return std::nullopt;
        t.year = v[0];
        t.month = v[1];
        t.day = v[2];
        if (v.size() >= 5) {
            t.hour = v[3];
            t.minute = v[4];
            t.second = v.size() > 5 ? v[5] : 0;
            bool pm = s.find("PM") != std::string::npos || s.find("pm") != std::string::npos;
            if (pm && t.hour < 12) t.hour += 12;
        }
    }
    if (!valid(t)) return std::nullopt;
    return t;
}

VideoFacts read_avi_facts(const RandomAccess& in) {
    VideoFacts f;
    uint8_t h[12];
    if (in.read_at(0, h, 12) < 12 || std::memcmp(h, "RIFF", 4) != 0) {
        f.errors.push_back("not a RIFF file");
        return f;
    }
    uint64_t end = std::min<uint64_t>(in.size(), 8 + uint64_t(le32(h + 4)));
    RiffWalker w(in, f);
    w.list(12, end, 0);
    w.finish();
    return f;
}

}  // namespace pf
