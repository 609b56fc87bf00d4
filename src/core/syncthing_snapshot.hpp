// What the Syncthing check learns from one round of REST calls, as plain data:
// the client (syncthing_client) fills it, the verdict (syncthing_verdict)
// judges it. Keeping the two apart lets the judgement be unit-tested on
// hand-made snapshots and the JSON decoding on Syncthing's own answers.
#pragma once

#include "core/core_guard.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pf::syncthing {

struct Device {
    std::string id;
    std::string name;
    bool paused = false;
};

struct Folder {
    std::string id;
    std::string label;
    std::string path;
    std::string type;                  // sendreceive, sendonly, receiveonly, receiveencrypted
    bool paused = false;
    std::vector<std::string> devices;  // device IDs sharing it (ours included)
    bool at_inbox = false;             // its path is the inbox or lies below it
};

// /rest/db/status?folder=ID
struct FolderState {
    std::string state;                 // idle, scanning, syncing, error, ...
    std::string error;                 // folder-level error text, if any
    int64_t pull_errors = 0;
    int64_t need_files = 0;
    int64_t need_bytes = 0;
    std::vector<std::string> file_errors;  // /rest/folder/errors: "path: error"
};

// Where one round of calls stopped, if it stopped early.
enum class Failure {
    None,
    Unreachable,   // connection refused, timeout, DNS, TLS ...
    Unauthorized,  // HTTP 401/403: the API key is wrong or missing
    BadResponse,   // HTTP error other than auth, or JSON that does not parse
};

struct Snapshot {
    Failure failure = Failure::None;
    std::string failure_detail;  // e.g. "Connection refused", "HTTP 500 on /rest/system/status"
    std::string my_id;
    std::vector<Device> devices;
    std::vector<Folder> folders;
    std::vector<FolderState> folder_states;             // parallel to folders
    std::vector<std::string> connected;                 // device IDs connected now
    std::vector<std::pair<std::string, int64_t>> last_seen;  // device ID -> unix seconds (0: never)
    std::vector<std::string> system_errors;             // /rest/system/error messages
};

}  // namespace pf::syncthing
