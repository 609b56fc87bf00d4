// Matroska / WebM: Segment/Info/DateUTC. See video_containers.hpp.
#include <cstring>

#include "core/video_containers.hpp"

namespace pf {
namespace {

constexpr uint32_t kEbml = 0x1A45DFA3, kSegment = 0x18538067, kInfo = 0x1549A966, kDateUtc = 0x4461;
constexpr int kMaxElements = 10000;
constexpr uint64_t kUnknownSize = ~uint64_t(0);
constexpr int64_t k2001 = 978307200;  // 2001-01-01T00:00:00Z in Unix seconds

struct Element {
    uint32_t id = 0;
    uint64_t body = 0;
    uint64_t size = 0;  // kUnknownSize: "until the parent ends" (live streams)
};

// An EBML variable-length integer at off: its length is told by the leading
// zero bits of the first byte. IDs keep the marker bit; sizes drop it.
bool vint(const RandomAccess& in, uint64_t& off, uint64_t end, bool keep_marker, uint64_t& out) {
    uint8_t b[8];
    if (off >= end || in.read_at(off, b, 1) != 1 || b[0] == 0) return false;
    int len = 1;
    while (len <= 8 && !(b[0] & (0x80 >> (len - 1)))) len++;
    if (len > 8 || off + uint64_t(len) > end) return false;
    if (len > 1 && in.read_at(off + 1, b + 1, size_t(len - 1)) != size_t(len - 1)) return false;
    uint64_t v = keep_marker ? b[0] : (b[0] & (0xFF >> len));
    bool all_ones = (b[0] & (0xFF >> len)) == (0xFF >> len);
    for (int i = 1; i < len; i++) {
        v = (v << 8) | b[i];
        all_ones = all_ones && b[i] == 0xFF;
    }
    out = (!keep_marker && all_ones) ? kUnknownSize : v;
    off += uint64_t(len);
    return true;
}

bool element(const RandomAccess& in, uint64_t& off, uint64_t end, Element& e) {
    uint64_t id = 0;
    if (!vint(in, off, end, true, id) || id > 0xFFFFFFFFu || !vint(in, off, end, false, e.size)) return false;
    e.id = static_cast<uint32_t>(id);
    e.body = off;
    return true;
}

}  // namespace

VideoFacts read_matroska_facts(const RandomAccess& in) {
    VideoFacts f;
    const uint64_t file_end = in.size();
    uint64_t off = 0;
    Element e;
    if (!element(in, off, file_end, e) || e.id != kEbml || e.size == kUnknownSize) {
        f.errors.push_back("not an EBML file");
        return f;
    }
    off = e.body + e.size;
    // Top level: the Segment (after any Void elements).
    for (int n = 0; n < 16; n++) {
        if (!element(in, off, file_end, e)) break;
        if (e.id != kSegment) {
            if (e.size == kUnknownSize || e.size > file_end - e.body) break;
            off = e.body + e.size;
            continue;
        }
        uint64_t seg_end = e.size == kUnknownSize || e.size > file_end - e.body ? file_end : e.body + e.size;
        uint64_t p = e.body;
        for (int k = 0; k < kMaxElements && p < seg_end; k++) {
            Element c;
            if (!element(in, p, seg_end, c)) break;
            if (c.size == kUnknownSize) break;  // a live-stream cluster: nothing after it can be found cheaply
            uint64_t c_end = c.size > seg_end - c.body ? seg_end : c.body + c.size;
            if (c.id == kInfo) {
                uint64_t q = c.body;
                for (int m = 0; m < 256 && q < c_end; m++) {
                    Element d;
                    if (!element(in, q, c_end, d) || d.size == kUnknownSize || d.size > c_end - d.body) break;
                    if (d.id == kDateUtc && d.size >= 1 && d.size <= 8) {
                        uint8_t b[8];
                        if (in.read_at(d.body, b, size_t(d.size)) != d.size) break;
                        uint64_t u = (b[0] & 0x80) ? ~uint64_t(0) : 0;  // signed, big-endian
                        for (uint64_t i = 0; i < d.size; i++) u = (u << 8) | b[i];
                        int64_t ns = static_cast<int64_t>(u);
                        int64_t secs = ns / 1000000000 - (ns % 1000000000 < 0 ? 1 : 0);
                        // DateUTC 0 is "2001-01-01 00:00:00" as muxers write when they know nothing.
                        if (ns != 0) f.creation_utc_epoch = k2001 + secs;
                    }
                    q = d.body + d.size;
                }
                return f;
            }
            p = c_end;
        }
        break;
    }
    return f;
}

}  // namespace pf
