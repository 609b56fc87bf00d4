// Names as stored and recorded: the ledger is UTF-8 text, and a library is
// later browsed from other systems, so raw inbox names are made safe —
// deterministically, so the same name always maps to the same result.
#pragma once

#include "core/core_guard.hpp"

#include <string>
#include <string_view>

namespace pf {

struct SanitizedName {
    std::string name;
    bool changed = false;
};

// Invalid UTF-8 bytes and control characters become "%XX"; '/' becomes "%2F";
// "", "." and ".." become "_"; the result is at most 255 bytes (the stem is
// cut at a character boundary, the extension kept). Valid names are untouched.
SanitizedName sanitize_filename(std::string_view raw);

// A '/'-separated relative path, each component sanitised: how inbox paths
// are shown in the ledger and reports.
std::string sanitize_rel_path(std::string_view raw_rel);

// Free text that may carry raw names (error messages, log lines): invalid
// UTF-8 and control characters become "%XX", nothing else changes and
// nothing is cut. A name in the server log cannot forge a line or break a
// log collector's decoding.
std::string escape_for_log(std::string_view text);

}  // namespace pf
