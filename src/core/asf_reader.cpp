// ASF (WMV): File Properties creation date. See video_containers.hpp.
#include <cstring>

#include "core/video_containers.hpp"

namespace pf {
namespace {

const uint8_t kHeader[16] = {0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11,
                             0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C};
const uint8_t kFileProperties[16] = {0xA1, 0xDC, 0xAB, 0x8C, 0x47, 0xA9, 0xCF, 0x11,
                                     0x8E, 0xE4, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65};
constexpr int kMaxObjects = 1000;
constexpr uint64_t kFiletimeToUnix = 11644473600ULL;  // seconds from 1601-01-01 to 1970-01-01

uint64_t le64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
uint32_t le32(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24); }

}  // namespace

VideoFacts read_asf_facts(const RandomAccess& in) {
    VideoFacts f;
    uint8_t h[30];
    if (in.read_at(0, h, 30) < 30 || std::memcmp(h, kHeader, 16) != 0) {
        f.errors.push_back("not an ASF file");
        return f;
    }
    uint64_t end = std::min<uint64_t>(in.size(), le64(h + 16));
    uint32_t count = le32(h + 24);
    uint64_t off = 30;
    for (uint32_t i = 0; i < count && i < uint32_t(kMaxObjects) && off + 24 <= end; i++) {
        uint8_t o[24 + 16 + 8 + 8];
        if (in.read_at(off, o, 24) < 24) break;
        uint64_t size = le64(o + 16);
        if (size < 24 || size > end - off) {
            f.errors.push_back("ASF header object has an invalid size");
            break;
        }
        if (std::memcmp(o, kFileProperties, 16) == 0 && size >= sizeof o) {
            if (in.read_at(off, o, sizeof o) < sizeof o) break;
            uint64_t ft = le64(o + 24 + 16 + 8);  // after the file id and the file size
            uint64_t secs = ft / 10000000ULL;
            // 0 is "not set"; FILETIMEs before 1970 are clocks never set.
            if (secs > kFiletimeToUnix && secs < kFiletimeToUnix + 253402300800ULL)
                f.creation_utc_epoch = static_cast<int64_t>(secs - kFiletimeToUnix);
            break;
        }
        off += size;
    }
    return f;
}

}  // namespace pf
