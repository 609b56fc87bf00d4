// Text into HTML. Every string the dashboard shows (file names, paths, EXIF
// text, status texts) comes from a device or a person we do not control: a
// synced file named `<img src=x onerror=alert(1)>.jpg` must render as text.
#pragma once

#include "core/core_guard.hpp"

#include <string>
#include <string_view>

namespace pf::html {

// Escapes & < > " ' for element text and quoted attribute values; bytes that
// are not valid UTF-8 become U+FFFD and control characters (but tab and
// newline) become U+FFFD too, so the page is always valid UTF-8.
std::string escape(std::string_view text);

// Percent-encodes everything but unreserved characters (RFC 3986), for a
// value placed in a URL's path or query.
std::string url_encode(std::string_view text);

}  // namespace pf::html
