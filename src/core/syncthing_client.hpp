// One round of the Syncthing check: the REST calls (libcurl, strict
// timeouts, bounded answers) that fill a Snapshot. Runs in the worker's own
// thread; libcurl may start a resolver thread, so every call runs with all
// signals blocked (inherited by any thread it starts) and CURLOPT_NOSIGNAL.
// Never calls PostgreSQL; never puts the API key in an error message.
#pragma once

#include "core/core_guard.hpp"

#include <string>

#include "core/syncthing_snapshot.hpp"

namespace pf::syncthing {

struct ClientOptions {
    std::string url;          // e.g. http://127.0.0.1:8384 (no trailing path)
    std::string api_key;
    std::string inbox_path;   // to find the folders that feed the inbox
    long timeout_ms = 5000;   // whole round, per call
};

// Never throws for Syncthing's faults: they come back as Snapshot::failure.
Snapshot fetch_snapshot(const ClientOptions& opt);

// The API key from Syncthing's config.xml (<configuration><gui><apikey>),
// read with libxml2 (no network, no entity expansion). Throws pf::Error with
// a reason when the file cannot be read or holds no key.
std::string api_key_from_config(const std::string& config_xml_path);
std::string api_key_from_config_text(const std::string& xml);

}  // namespace pf::syncthing
