#include "core/zone_from_location.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <vector>

#include "core/digits.hpp"

namespace pf {
namespace {

struct ZoneRow {
    double lat, lon;  // radians
    std::string name;
};

constexpr double kPi = 3.14159265358979323846;
constexpr double kEarthRadiusKm = 6371.0;

double radians(double deg) { return deg * kPi / 180.0; }

// One ±DD[D]MM[SS] component of `width` degree digits.
bool component(const std::string& s, size_t& pos, int deg_digits, size_t len, double& out) {
    if (pos >= s.size() || (s[pos] != '+' && s[pos] != '-')) return false;
    bool neg = s[pos] == '-';
    size_t start = pos + 1;
    size_t end = start;
    while (end < s.size() && s[end] >= '0' && s[end] <= '9') end++;
    size_t n = end - start;
    if (n != len && n != len + 2) return false;
    int d = 0, m = 0, sec = 0;
    std::string_view v(s);
    if (!parse_fixed_digits(v, start, static_cast<size_t>(deg_digits), d) ||
        !parse_fixed_digits(v, start + static_cast<size_t>(deg_digits), 2, m))
        return false;
    if (n == len + 2 && !parse_fixed_digits(v, start + len, 2, sec)) return false;
    out = d + m / 60.0 + sec / 3600.0;
    if (neg) out = -out;
    pos = end;
    return true;
}

std::vector<ZoneRow> parse_table(std::istream& in) {
    std::vector<ZoneRow> rows;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        // countries \t coordinates \t TZ [\t comments]
        size_t t1 = line.find('\t');
        if (t1 == std::string::npos) continue;
        size_t t2 = line.find('\t', t1 + 1);
        if (t2 == std::string::npos) continue;
        size_t t3 = line.find('\t', t2 + 1);
        std::string coords = line.substr(t1 + 1, t2 - t1 - 1);
        std::string name = line.substr(t2 + 1, t3 == std::string::npos ? std::string::npos : t3 - t2 - 1);
        while (!name.empty() && (name.back() == '\r' || name.back() == ' ')) name.pop_back();
        double lat, lon;
        if (name.empty() || !parse_zone_tab_coordinates(coords, lat, lon)) continue;
        rows.push_back({radians(lat), radians(lon), name});
    }
    return rows;
}

std::optional<std::string> nearest(const std::vector<ZoneRow>& rows, double lat, double lon) {
    if (!std::isfinite(lat) || !std::isfinite(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180)
        return std::nullopt;
    if (rows.empty()) return std::nullopt;
    const double la = radians(lat), lo = radians(lon);
    const ZoneRow* best = nullptr;
    double best_h = 2.0;  // haversine term, monotonic in distance
    for (const ZoneRow& r : rows) {
        double dlat = std::sin((r.lat - la) / 2), dlon = std::sin((r.lon - lo) / 2);
        double h = dlat * dlat + std::cos(la) * std::cos(r.lat) * dlon * dlon;
        if (h < best_h) {
            best_h = h;
            best = &r;
        }
    }
    double km = 2 * kEarthRadiusKm * std::asin(std::sqrt(std::min(1.0, best_h)));
    if (km <= kZoneMaxDistanceKm) return best->name;
    // Open sea: the nautical zone of the longitude (15° wide, centred on multiples
    // of 15°). POSIX signs are inverted: Etc/GMT+9 is UTC-9.
    int hours = static_cast<int>(std::lround(lon / 15.0));
    if (hours == 0) return std::string("Etc/GMT");
    if (hours > 12) hours = 12;
    if (hours < -12) hours = -12;
    return std::string(hours > 0 ? "Etc/GMT-" : "Etc/GMT+") + std::to_string(std::abs(hours));
}

}  // namespace

bool parse_zone_tab_coordinates(const std::string& s, double& lat, double& lon) {
    size_t pos = 0;
    if (!component(s, pos, 2, 4, lat)) return false;
    if (!component(s, pos, 3, 5, lon)) return false;
    return pos == s.size() && std::fabs(lat) <= 90 && std::fabs(lon) <= 180;
}

std::optional<std::string> zone_from_location_in(const std::string& table_text, double lat, double lon) {
    std::istringstream in(table_text);
    return nearest(parse_table(in), lat, lon);
}

std::optional<std::string> zone_from_location(double lat, double lon) {
    static std::once_flag once;
    static std::vector<ZoneRow>* table = nullptr;  // never freed: lives as long as the process
    std::call_once(once, [] {
        auto* rows = new std::vector<ZoneRow>();
        const char* env = std::getenv("PF_ZONE_TABLE");
        std::vector<std::string> files;
        if (env && *env) files = {env};
        else files = {"/usr/share/zoneinfo/zone1970.tab", "/usr/share/zoneinfo/zone.tab"};
        for (const std::string& name : files) {
            std::ifstream in(name);
            if (!in) continue;
            std::vector<ZoneRow> more = parse_table(in);
            rows->insert(rows->end(), more.begin(), more.end());
        }
        table = rows;
    });
    return nearest(*table, lat, lon);
}

}  // namespace pf
