#include "core/syncthing_verdict.hpp"

#include <algorithm>
#include <cstdio>

namespace pf::syncthing {
namespace {

constexpr size_t kMaxTask = 480;  // current_task is shown on one dashboard line

struct Tally {
    bool warn = false;
    std::vector<std::string> notes;     // status of the inbox folders
    std::vector<std::string> problems;  // what made it a WARNING
};

std::string device_name(const Snapshot& s, const std::string& id) {
    for (const auto& d : s.devices)
        if (d.id == id && !d.name.empty()) return d.name;
    return id.substr(0, 7);  // Syncthing's own short form of a device ID
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

std::string human_bytes(int64_t b) {
    const char* units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = static_cast<double>(b);
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    char buf[32];
    snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

std::string quoted(const Folder& f) { return "\"" + (f.label.empty() ? f.id : f.label) + "\""; }

void judge_folder(const Folder& f, const FolderState& st, Tally& t) {
    std::string name = "folder " + quoted(f);
    if (f.paused) {
        t.warn = true;
        t.problems.push_back(name + " is paused");
        return;
    }
    if (st.state == "error" || !st.error.empty()) {
        t.warn = true;
        t.problems.push_back(name + " has an error: " + (st.error.empty() ? st.state : st.error));
        return;
    }
    if (st.pull_errors > 0 || !st.file_errors.empty()) {
        t.warn = true;
        int64_t n = std::max<int64_t>(st.pull_errors, static_cast<int64_t>(st.file_errors.size()));
        std::string p = name + ": " + std::to_string(n) + (n == 1 ? " file fails" : " files fail") + " to sync";
        if (!st.file_errors.empty()) p += " (" + st.file_errors.front() + ")";
        t.problems.push_back(p);
        return;
    }
    if (st.state == "idle")
        t.notes.push_back(name + " up to date");
    else if (st.state == "syncing" || st.state == "sync-preparing")
        t.notes.push_back(name + " syncing, " + std::to_string(st.need_files) + " files (" +
                          human_bytes(st.need_bytes) + ") to go");
    else
        t.notes.push_back(name + " " + (st.state.empty() ? "state unknown" : st.state));
}

std::string join(const std::vector<std::string>& v, const char* sep) {
    std::string out;
    for (const auto& x : v) {
        if (!out.empty()) out += sep;
        out += x;
    }
    return out;
}

}  // namespace

std::string describe_age(int64_t s) {
    if (s < 0) s = 0;
    if (s < 90) return std::to_string(s) + " s ago";
    if (s < 90 * 60) return std::to_string((s + 30) / 60) + " min ago";
    if (s < 36 * 3600) return std::to_string((s + 1800) / 3600) + " h ago";
    return std::to_string((s + 43200) / 86400) + " d ago";
}

Verdict judge(const Snapshot& s, const VerdictOptions& opt) {
    Verdict v;
    switch (s.failure) {
        case Failure::Unreachable:
            return {"ERROR", "Syncthing check: Syncthing is unreachable at " + opt.url + " (" + s.failure_detail + ")"};
        case Failure::Unauthorized:
            return {"ERROR", "Syncthing check: Syncthing at " + opt.url +
                                 " refused the API key (" + s.failure_detail +
                                 "): set photofactory.syncthing_api_key or photofactory.syncthing_config"};
        case Failure::BadResponse:
            return {"ERROR", "Syncthing check: unexpected answer from " + opt.url + ": " + s.failure_detail};
        case Failure::None:
            break;
    }

    Tally t;
    std::vector<std::string> sharing;  // remote devices of the inbox folders
    for (size_t i = 0; i < s.folders.size(); i++) {
        const Folder& f = s.folders[i];
        if (!f.at_inbox) continue;
        FolderState st = i < s.folder_states.size() ? s.folder_states[i] : FolderState{};
        judge_folder(f, st, t);
        for (const auto& d : f.devices)
            if (d != s.my_id && !contains(sharing, d)) sharing.push_back(d);
    }
    if (t.notes.empty() && t.problems.empty())
        return {"ERROR", "Syncthing check: no Syncthing folder points at the inbox (" +
                             std::to_string(s.folders.size()) + " folders configured)"};

    size_t connected = 0;
    std::string freshest;  // the most recently seen device that is not connected now
    int64_t freshest_at = -1;
    for (const auto& id : sharing) {
        bool paused = false;
        for (const auto& d : s.devices)
            if (d.id == id) paused = d.paused;
        if (contains(s.connected, id)) {
            connected++;
            continue;
        }
        int64_t seen = 0;
        for (const auto& [dev, at] : s.last_seen)
            if (dev == id) seen = at;
        std::string name = device_name(s, id);
        if (paused) {
            t.warn = true;
            t.problems.push_back("device " + name + " is paused");
        } else if (seen <= 0) {
            t.warn = true;
            t.problems.push_back("device " + name + " has never connected");
        } else if (opt.now - seen > opt.device_warn_after_s) {
            t.warn = true;
            t.problems.push_back("device " + name + " last seen " + describe_age(opt.now - seen));
        } else if (seen > freshest_at) {
            freshest_at = seen;
            freshest = name;
        }
    }
    for (const auto& e : s.system_errors) {
        t.warn = true;
        t.problems.push_back("Syncthing reports: " + e);
    }

    std::string task = "Syncthing check: " + join(t.notes, ", ");
    if (!t.notes.empty()) task += ", ";
    task += std::to_string(connected) + " of " + std::to_string(sharing.size()) +
            (sharing.size() == 1 ? " device" : " devices") + " connected";
    if (!freshest.empty()) task += ", " + freshest + " last seen " + describe_age(opt.now - freshest_at);
    if (!t.problems.empty()) task += "; " + join(t.problems, "; ");
    if (task.size() > kMaxTask) {
        size_t cut = kMaxTask - 3;
        while (cut > 0 && (static_cast<unsigned char>(task[cut]) & 0xC0) == 0x80) cut--;  // keep UTF-8 whole
        task = task.substr(0, cut) + "...";
    }
    v.status = t.warn ? "WARNING" : "OK";
    v.task = task;
    return v;
}

}  // namespace pf::syncthing
