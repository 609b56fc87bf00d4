// pf-inspect FILE... : what photofactory's core reads from each file, one JSON
// object per line, without PostgreSQL. The same facts as
// photofactory.inspect_file(), plus "file". Used by test/formats/compare.sh to
// compare our readings with exiftool's.
//
//   pf-inspect [--zone NAME] [--now EPOCH] [--no-gps-zone] [-v] FILE...
//
// --zone is the default zone (photofactory.default_timezone's role; default
// UTC). Zones are resolved here with the C library and /usr/share/zoneinfo —
// the extension itself uses PostgreSQL's time-zone code.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include "core/asset_json.hpp"
#include "core/asset_reader.hpp"
#include "core/errors.hpp"
#include "core/exif_reader.hpp"
#include "core/filename_sanitize.hpp"
#include "core/json_writer.hpp"
#include "core/library_layout.hpp"

namespace {

bool g_verbose = false;

void log_sink(pf::LogLevel level, const char* message) {
    if (g_verbose || level == pf::LogLevel::Error) std::fprintf(stderr, "exiv2: %s\n", message);
}

bool zone_exists(const char* zone) {
    if (zone[0] == '\0' || zone[0] == '/' || std::strstr(zone, "..") != nullptr) return false;
    struct stat st;
    return stat((std::string("/usr/share/zoneinfo/") + zone).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// libc's zone code: set TZ for one conversion (this tool is single-threaded).
bool libc_offset(int64_t utc, const char* zone, int* minutes, void* ctx) {
    const char* name = zone != nullptr ? zone : static_cast<const char*>(ctx);
    if (!zone_exists(name)) return false;
    std::string tz = std::string(":") + name;
    setenv("TZ", tz.c_str(), 1);
    tzset();
    time_t t = static_cast<time_t>(utc);
    struct tm tm;
    bool ok = localtime_r(&t, &tm) != nullptr;
    if (ok) *minutes = static_cast<int>(tm.tm_gmtoff / 60);
    return ok;
}

int usage() {
    std::fprintf(stderr, "usage: pf-inspect [--zone NAME] [--now EPOCH] [--no-gps-zone] [-v] FILE...\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    const char* zone = "UTC";
    pf::ReadOptions opts;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        std::string a = argv[i];
        if (a == "--zone" && i + 1 < argc) zone = argv[++i];
        else if (a == "--now" && i + 1 < argc) opts.now_epoch = std::strtoll(argv[++i], nullptr, 10);
        else if (a == "--no-gps-zone") opts.zone_from_gps = false;
        else if (a == "-v") g_verbose = true;
        else if (a == "--") { i++; break; }
        else return usage();
    }
    if (i >= argc) return usage();
    if (!zone_exists(zone)) {
        std::fprintf(stderr, "pf-inspect: unknown zone %s\n", zone);
        return 2;
    }
    opts.utc_offset_for = libc_offset;
    opts.utc_offset_ctx = const_cast<char*>(zone);
    opts.default_zone_name = zone;
    pf::set_log_sink(log_sink);
    pf::init_metadata_library();

    int failures = 0;
    for (; i < argc; i++) {
        const char* path = argv[i];
        const char* slash = std::strrchr(path, '/');
        const char* name = slash ? slash + 1 : path;
        std::string line;
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        try {
            if (fd < 0) throw pf::IoError(std::string("opening ") + path, errno);
            pf::AssetFacts f = pf::read_asset(fd, name, opts);
            std::string dest = "Originals/" + pf::date_folder(f.captured) + "/" + pf::sanitize_filename(name).name;
            std::string facts = pf::asset_facts_json(f, dest);
            pf::JsonObject head;
            head.add("file", std::string(path));
            std::string h = head.str();
            line = h.substr(0, h.size() - 1) + "," + facts.substr(1);  // {"file":...,<facts>}
        } catch (const pf::RejectError& e) {
            pf::JsonObject o;
            o.add("file", std::string(path)).add("rejected", pf::to_string(e.reason)).add("detail", e.what());
            line = o.str();
        } catch (const std::exception& e) {
            pf::JsonObject o;
            o.add("file", std::string(path)).add("error", e.what());
            line = o.str();
            failures++;
        }
        if (fd >= 0) close(fd);
        std::printf("%s\n", line.c_str());
    }
    return failures ? 1 : 0;
}
