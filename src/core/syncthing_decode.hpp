// Decoding of Syncthing's REST answers (JSON, via nlohmann::json) into a
// Snapshot. One function per endpoint so each can be tested on the text a
// real Syncthing returns. Every decoder throws pf::Error on malformed JSON.
#pragma once

#include "core/core_guard.hpp"

#include <cstdint>
#include <string>

#include "core/syncthing_snapshot.hpp"

namespace pf::syncthing {

void decode_system_status(const std::string& json, Snapshot& s);   // /rest/system/status
void decode_config(const std::string& json, Snapshot& s);          // /rest/config
void decode_connections(const std::string& json, Snapshot& s);     // /rest/system/connections
void decode_device_stats(const std::string& json, Snapshot& s);    // /rest/stats/device
void decode_system_errors(const std::string& json, Snapshot& s);   // /rest/system/error
FolderState decode_folder_status(const std::string& json);         // /rest/db/status
void decode_folder_errors(const std::string& json, FolderState& st);  // /rest/folder/errors

// RFC 3339 ("2026-11-30T04:12:33.123456789+01:00" or "...Z") to unix seconds;
// 0 for Syncthing's "never" (the zero time, year 1 or 1970) and for junk.
int64_t parse_rfc3339(const std::string& text);

// Is `folder` the inbox or a folder below it? Lexical, after normalising
// repeated and trailing slashes and "." segments; a path with ".." never
// matches (it cannot be judged without the filesystem).
bool path_at_or_below(const std::string& folder, const std::string& inbox);

}  // namespace pf::syncthing
