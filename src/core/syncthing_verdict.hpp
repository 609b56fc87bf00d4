// Judges a Syncthing snapshot into the `syncthing` service row: OK, WARNING or
// ERROR, with a current_task a person understands at a glance. Pure: no I/O,
// the clock comes in as an argument.
#pragma once

#include "core/core_guard.hpp"

#include <cstdint>
#include <string>

#include "core/syncthing_snapshot.hpp"

namespace pf::syncthing {

struct VerdictOptions {
    int64_t now = 0;                        // unix seconds
    int64_t device_warn_after_s = 7 * 86400;  // a device unseen for longer is a WARNING
    std::string url;                        // for messages only (never the API key)
};

struct Verdict {
    std::string status;  // "OK", "WARNING" or "ERROR"
    std::string task;    // current_task text
};

Verdict judge(const Snapshot& s, const VerdictOptions& opt);

// "3 h ago", "5 min ago", "2 d ago", "never".
std::string describe_age(int64_t seconds_ago);

}  // namespace pf::syncthing
