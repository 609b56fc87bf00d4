#include "core/inbox_rules.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace pf {
namespace {

bool ends_with_ci(std::string_view s, std::string_view suffix) {
    if (s.size() < suffix.size()) return false;
    for (size_t i = 0; i < suffix.size(); i++)
        if (std::tolower(static_cast<unsigned char>(s[s.size() - suffix.size() + i])) != suffix[i]) return false;
    return true;
}

bool equals_ci(std::string_view a, std::string_view b) {
    return a.size() == b.size() && ends_with_ci(a, b);
}

}  // namespace

NameVerdict classify_name(std::string_view name, bool is_dir) {
    if (name.empty()) return NameVerdict::Ignored;
    // Syncthing writes "~syncthing~NAME.tmp" on Windows-safe setups and
    // ".syncthing.NAME.tmp" elsewhere; both are hidden or temporary.
    if (name.rfind("~syncthing~", 0) == 0) return NameVerdict::Temporary;
    if (name.rfind(".syncthing.", 0) == 0) return NameVerdict::Temporary;
    if (name.rfind(".~lock.", 0) == 0 || name.rfind("~$", 0) == 0) return NameVerdict::Temporary;
    if (name.front() == '.') return NameVerdict::Hidden;  // .stfolder, .stversions, .DS_Store, .trashed-*, ._*
    static const char* ignored[] = {"thumbs.db", "desktop.ini", "@eadir", "#recycle", "#snapshot", "$recycle.bin",
                                    "lost+found", "system volume information", "icon\r"};
    for (const char* i : ignored)
        if (equals_ci(name, i)) return NameVerdict::Ignored;
    if (is_dir) return NameVerdict::Candidate;
    static const char* temp_suffixes[] = {".tmp", ".part", ".partial", ".crdownload", ".download", ".!qb", ".filepart", ".sb-tmp"};
    for (const char* s : temp_suffixes)
        if (ends_with_ci(name, s)) return NameVerdict::Temporary;
    return NameVerdict::Candidate;
}

double seconds_since_change(const struct stat& st, const struct timespec& now) {
    auto secs = [](const struct timespec& t) { return static_cast<double>(t.tv_sec) + t.tv_nsec / 1e9; };
    return secs(now) - std::max(secs(st.st_mtim), secs(st.st_ctim));
}

bool has_settled_ns(const struct stat& st, const struct timespec& now, int settle_seconds) {
    return seconds_since_change(st, now) >= settle_seconds;
}

bool has_settled(const struct stat& st, int64_t now_epoch, int settle_seconds) {
    struct timespec now{static_cast<time_t>(now_epoch), 0};
    return has_settled_ns(st, now, settle_seconds);
}

}  // namespace pf
