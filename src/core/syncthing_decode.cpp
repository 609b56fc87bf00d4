#include "core/syncthing_decode.hpp"

#include <ctime>
#include <nlohmann/json.hpp>

#include "core/errors.hpp"

namespace pf::syncthing {
namespace {

using nlohmann::json;

json parse(const std::string& text, const char* what) {
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) throw Error(std::string("Syncthing sent malformed JSON for ") + what);
    return j;
}

std::string str(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t num(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<int64_t>() : 0;
}

bool flag(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_boolean() && it->get<bool>();
}

int digits(const std::string& s, size_t pos, size_t n) {
    if (pos + n > s.size()) return -1;
    int v = 0;
    for (size_t i = pos; i < pos + n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

std::string normalise(const std::string& p) {
    std::string out;
    size_t i = 0;
    while (i < p.size()) {
        size_t j = p.find('/', i);
        if (j == std::string::npos) j = p.size();
        std::string seg = p.substr(i, j - i);
        if (!seg.empty() && seg != ".") out += "/" + seg;
        i = j + 1;
    }
    return out.empty() ? "/" : out;
}

}  // namespace

void decode_system_status(const std::string& text, Snapshot& s) {
    json j = parse(text, "/rest/system/status");
    s.my_id = str(j, "myID");
    if (s.my_id.empty()) throw Error("Syncthing's /rest/system/status has no myID");
}

void decode_config(const std::string& text, Snapshot& s) {
    json j = parse(text, "/rest/config");
    auto devs = j.find("devices");
    if (devs != j.end() && devs->is_array())
        for (const auto& d : *devs) s.devices.push_back({str(d, "deviceID"), str(d, "name"), flag(d, "paused")});
    auto folders = j.find("folders");
    if (folders == j.end() || !folders->is_array()) throw Error("Syncthing's /rest/config has no folders list");
    for (const auto& f : *folders) {
        Folder folder;
        folder.id = str(f, "id");
        folder.label = str(f, "label");
        folder.path = str(f, "path");
        folder.type = str(f, "type");
        folder.paused = flag(f, "paused");
        auto fd = f.find("devices");
        if (fd != f.end() && fd->is_array())
            for (const auto& d : *fd) folder.devices.push_back(str(d, "deviceID"));
        s.folders.push_back(std::move(folder));
    }
}

void decode_connections(const std::string& text, Snapshot& s) {
    json j = parse(text, "/rest/system/connections");
    auto conns = j.find("connections");
    if (conns == j.end() || !conns->is_object()) return;
    for (auto it = conns->begin(); it != conns->end(); ++it)
        if (it->is_object() && flag(*it, "connected")) s.connected.push_back(it.key());
}

void decode_device_stats(const std::string& text, Snapshot& s) {
    json j = parse(text, "/rest/stats/device");
    if (!j.is_object()) return;
    for (auto it = j.begin(); it != j.end(); ++it)
        if (it->is_object()) s.last_seen.emplace_back(it.key(), parse_rfc3339(str(*it, "lastSeen")));
}

void decode_system_errors(const std::string& text, Snapshot& s) {
    json j = parse(text, "/rest/system/error");
    auto errs = j.find("errors");
    if (errs == j.end() || !errs->is_array()) return;
    for (const auto& e : *errs) {
        std::string m = str(e, "message");
        if (!m.empty()) s.system_errors.push_back(m);
    }
}

FolderState decode_folder_status(const std::string& text) {
    json j = parse(text, "/rest/db/status");
    FolderState st;
    st.state = str(j, "state");
    st.error = str(j, "error");
    st.pull_errors = num(j, "pullErrors");
    st.need_files = num(j, "needFiles");
    st.need_bytes = num(j, "needBytes");
    return st;
}

void decode_folder_errors(const std::string& text, FolderState& st) {
    json j = parse(text, "/rest/folder/errors");
    auto errs = j.find("errors");
    if (errs == j.end() || !errs->is_array()) return;
    for (const auto& e : *errs) st.file_errors.push_back(str(e, "path") + ": " + str(e, "error"));
}

int64_t parse_rfc3339(const std::string& t) {
    int Y = digits(t, 0, 4), M = digits(t, 5, 2), D = digits(t, 8, 2);
    int h = digits(t, 11, 2), m = digits(t, 14, 2), sec = digits(t, 17, 2);
    if (Y < 0 || M < 1 || D < 1 || h < 0 || m < 0 || sec < 0 || t[4] != '-' || t[7] != '-' ||
        (t[10] != 'T' && t[10] != ' '))
        return 0;
    if (Y <= 1970) return 0;  // Go's zero time (0001-01-01) or the epoch: "never"
    size_t i = 19;
    if (i < t.size() && t[i] == '.')
        for (i++; i < t.size() && t[i] >= '0' && t[i] <= '9'; i++) {
        }
    int offset = 0;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
        int oh = digits(t, i + 1, 2), om = digits(t, i + 4, 2);
        if (oh < 0 || om < 0) return 0;
        offset = (oh * 60 + om) * 60 * (t[i] == '-' ? -1 : 1);
    } else if (i >= t.size() || (t[i] != 'Z' && t[i] != 'z')) {
        return 0;
    }
    struct tm tm = {};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    return static_cast<int64_t>(timegm(&tm)) - offset;
}

bool path_at_or_below(const std::string& folder, const std::string& inbox) {
    if (folder.empty() || inbox.empty() || folder[0] != '/' || inbox[0] != '/') return false;
    auto has_dotdot = [](const std::string& p) {
        return p == ".." || p.find("/../") != std::string::npos || p.rfind("../", 0) == 0 ||
               (p.size() >= 3 && p.compare(p.size() - 3, 3, "/..") == 0);
    };
    if (has_dotdot(folder) || has_dotdot(inbox)) return false;
    std::string f = normalise(folder), b = normalise(inbox);
    if (f == b) return true;
    if (b == "/") return true;
    return f.size() > b.size() && f.compare(0, b.size(), b) == 0 && f[b.size()] == '/';
}

}  // namespace pf::syncthing
