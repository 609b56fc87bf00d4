#include "core/log_escape.hpp"

#include <cstdint>
#include <cstdio>

namespace pf {
namespace {

// Length of the valid UTF-8 sequence at s[i] (a non-control character), or 0.
size_t utf8_char(std::string_view s, size_t i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) return c >= 0x20 && c != 0x7F ? 1 : 0;
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return 0;
    if (i + len > s.size()) return 0;
    for (size_t k = 1; k < len; k++) {
        unsigned char cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x80 && cp < 0xA0))  // C1 controls too
        return 0;
    return len;
}

}  // namespace

std::string log_escape(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (size_t i = 0; i < raw.size();) {
        char c = raw[i];
        if (c == '\\') { out += "\\\\"; i++; continue; }
        if (c == '\n') { out += "\\n"; i++; continue; }
        if (c == '\r') { out += "\\r"; i++; continue; }
        if (c == '\t') { out += "\\t"; i++; continue; }
        size_t n = utf8_char(raw, i);
        if (n == 0) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(c));
            out += buf;
            i++;
            continue;
        }
        out.append(raw.substr(i, n));
        i += n;
    }
    return out;
}

std::string log_escape_path(std::string_view root, std::string_view rel) {
    std::string joined(root);
    if (joined.empty() || joined.back() != '/') joined.push_back('/');
    joined.append(rel);
    return log_escape(joined);
}

}  // namespace pf
