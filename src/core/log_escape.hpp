// Paths as they may appear in the server log: one line, readable, and
// unambiguous. Inbox names are raw bytes (a newline in a name could forge a
// log line; invalid UTF-8 garbles log viewers).
#pragma once

#include "core/core_guard.hpp"

#include <string>
#include <string_view>

namespace pf {

// Valid UTF-8 text is kept; a backslash becomes "\\", newline "\n", carriage
// return "\r", tab "\t", and any other control character, DEL or byte that is
// not valid UTF-8 becomes "\xNN". The result is printable and has no line
// break; distinct inputs give distinct outputs.
std::string log_escape(std::string_view raw);

// root + "/" + rel, escaped: the absolute path of an inbox or storage entry.
std::string log_escape_path(std::string_view root, std::string_view rel);

}  // namespace pf
