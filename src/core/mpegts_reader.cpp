// MPEG-TS / AVCHD: the H.264 SEI "MDPM" camcorder data. See video_containers.hpp.
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/geo.hpp"
#include "core/video_containers.hpp"

namespace pf {
namespace {

// The unregistered-user-data UUID AVCHD camcorders put before "MDPM".
const char kMdpm[] = "\x17\xee\x8c\x60\xf8\x4d\x11\xd9\x8c\xd6\x08\x00\x20\x0c\x9a\x66MDPM";
constexpr size_t kMdpmLen = sizeof kMdpm - 1;
constexpr uint64_t kMaxScan = 8u << 20;   // the first frames: AVCHD writes MDPM in every GOP
constexpr size_t kMaxPerPid = 2u << 20;
constexpr size_t kMaxPids = 16;

int bcd(uint8_t b) { return (b >> 4) * 10 + (b & 0x0F); }
bool is_bcd(uint8_t b) { return (b >> 4) <= 9 && (b & 0x0F) <= 9; }

// Parses the MDPM entries (tag byte + 4 data bytes each) after the marker.
void parse_mdpm(const std::vector<uint8_t>& raw, VideoFacts& f) {
    // Undo H.264 emulation prevention (00 00 03 -> 00 00) over the small region.
    std::vector<uint8_t> d;
    for (size_t i = 0, zeros = 0; i < raw.size(); i++) {
        if (zeros >= 2 && raw[i] == 3) {
            zeros = 0;
            continue;
        }
        zeros = raw[i] == 0 ? zeros + 1 : 0;
        d.push_back(raw[i]);
    }
    if (d.empty()) return;
    size_t count = d[0], pos = 1;
    std::map<int, const uint8_t*> tags;
    int last = -1;
    for (size_t i = 0; i < count && pos + 5 <= d.size(); i++, pos += 5) {
        if (d[pos] <= last) break;  // entries are in ascending order (exiftool checks the same)
        last = d[pos];
        tags[d[pos]] = &d[pos + 1];
    }
    auto t18 = tags.find(0x18), t19 = tags.find(0x19);
    if (t18 != tags.end() && t19 != tags.end()) {
        const uint8_t* a = t18->second;
        const uint8_t* b = t19->second;
        bool ok = true;
        for (int i = 1; i < 4; i++) ok = ok && is_bcd(a[i]);
        for (int i = 0; i < 4; i++) ok = ok && is_bcd(b[i]);
        if (ok) {
            LocalDateTime t;
            t.year = bcd(a[1]) * 100 + bcd(a[2]);
            t.month = bcd(a[3]);
            t.day = bcd(b[0]);
            t.hour = bcd(b[1]);
            t.minute = bcd(b[2]);
            t.second = bcd(b[3]);
            f.camera_local = t;
            // Zone byte: 0x20 sign (west), 0x1e hours, 0x01 half hour; 0x80 unused.
            uint8_t tz = a[0];
            int minutes = ((tz >> 1) & 0x0F) * 60 + ((tz & 0x01) ? 30 : 0);
            f.camera_offset_minutes = (tz & 0x20) ? -minutes : minutes;
        }
    }
    // GPS: refs 0xb1/0xb5 ('N'/'S', 'E'/'W'), degrees/minutes/seconds in
    // 0xb2-0xb4 and 0xb6-0xb8 as 16-bit numerator / 16-bit denominator.
    auto dms = [&](int first, double& out) {
        double v = 0, div = 1;
        for (int k = 0; k < 3; k++) {
            auto it = tags.find(first + k);
            if (it == tags.end()) return false;
            const uint8_t* p = it->second;
            double num = (p[0] << 8) | p[1], den = (p[2] << 8) | p[3];
            if (den == 0) return false;
            v += num / den / div;
            div *= 60;
        }
        out = v;
        return true;
    };
    double lat = 0, lon = 0;
    auto lat_ref = tags.find(0xb1), lon_ref = tags.find(0xb5);
    if (lat_ref != tags.end() && lon_ref != tags.end() && dms(0xb2, lat) && dms(0xb6, lon)) {
        if (lat_ref->second[0] == 'S') lat = -lat;
        if (lon_ref->second[0] == 'W') lon = -lon;
        f.location = make_location(lat, lon);
    }
}

}  // namespace

namespace {

struct Stream {
    std::vector<uint8_t> bytes;  // payloads of one PID, in order
    size_t searched = 0;         // the marker cannot start before this
};

// True when the record was found (complete) and parsed.
bool find_mdpm(Stream& s, bool at_end, VideoFacts& f) {
    for (size_t i = s.searched; i + kMdpmLen <= s.bytes.size(); i++) {
        if (std::memcmp(s.bytes.data() + i, kMdpm, kMdpmLen) != 0) continue;
        size_t body = i + kMdpmLen;
        // The count, 5 bytes per entry, and room for emulation-prevention bytes.
        size_t need = body < s.bytes.size() ? body + 1 + size_t(s.bytes[body]) * 6 : body + 1;
        if (need > s.bytes.size() && !at_end) {
            s.searched = i;  // come back when more has arrived
            return false;
        }
        std::vector<uint8_t> rec(s.bytes.begin() + long(body), s.bytes.begin() + long(std::min(need, s.bytes.size())));
        parse_mdpm(rec, f);
        return true;
    }
    s.searched = s.bytes.size() > kMdpmLen ? s.bytes.size() - kMdpmLen : 0;
    return false;
}

}  // namespace

VideoFacts read_mpegts_facts(const RandomAccess& in) {
    VideoFacts f;
    uint8_t probe[189];
    if (in.read_at(0, probe, sizeof probe) < sizeof probe) return f;
    const size_t packet = probe[0] == 0x47 && probe[188] == 0x47 ? 188 : 192, sync = packet == 192 ? 4 : 0;
    std::map<int, Stream> streams;
    std::vector<uint8_t> block(packet * 512);
    const uint64_t limit = std::min<uint64_t>(in.size(), kMaxScan);
    for (uint64_t off = 0; off < limit;) {
        size_t n = in.read_at(off, block.data(), block.size());
        n -= n % packet;
        if (n == 0) break;
        for (size_t p = 0; p < n; p += packet) {
            const uint8_t* pk = block.data() + p + sync;
            if (pk[0] != 0x47) {
                f.errors.push_back("MPEG-TS sync lost");
                return f;
            }
            int pid = ((pk[1] & 0x1F) << 8) | pk[2];
            int afc = (pk[3] >> 4) & 3;
            if (pid == 0x1FFF || !(afc & 1)) continue;  // null packets; no payload
            size_t start = 4;
            if (afc & 2) start += 1 + size_t(pk[4]);
            if (start >= 188) continue;
            auto it = streams.find(pid);
            if (it == streams.end()) {
                if (streams.size() >= kMaxPids) continue;
                it = streams.emplace(pid, Stream()).first;
            }
            Stream& st = it->second;
            if (st.bytes.size() >= kMaxPerPid) continue;
            st.bytes.insert(st.bytes.end(), pk + start, pk + 188);
        }
        off += n;
        for (auto& kv : streams)
            if (find_mdpm(kv.second, false, f)) return f;
    }
    for (auto& kv : streams)
        if (find_mdpm(kv.second, true, f)) return f;
    return f;
}

}  // namespace pf
