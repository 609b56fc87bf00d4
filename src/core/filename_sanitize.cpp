#include "core/filename_sanitize.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <vector>

namespace pf {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if invalid.
size_t utf8_len(std::string_view s, size_t i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) return 1;
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
    // Overlong forms, surrogates and out-of-range code points are invalid.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

void escape(std::string& out, unsigned char c) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%%%02X", c);
    out += buf;
}

// Cuts s to at most max bytes without splitting a UTF-8 sequence or one of
// our "%XX" escapes (escapes: where each starts, ascending).
std::string cut(const std::string& s, size_t max, const std::vector<size_t>& escapes) {
    if (s.size() <= max) return s;
    size_t end = max;
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) end--;
    auto it = std::upper_bound(escapes.begin(), escapes.end(), end);
    if (it != escapes.begin() && *std::prev(it) + 3 > end) end = *std::prev(it);
    return s.substr(0, end);
}

}  // namespace

SanitizedName sanitize_filename(std::string_view raw) {
    SanitizedName r;
    std::string& out = r.name;
    std::vector<size_t> escapes;
    for (size_t i = 0; i < raw.size();) {
        unsigned char c = static_cast<unsigned char>(raw[i]);
        size_t len = utf8_len(raw, i);
        if (len == 0 || c < 0x20 || c == 0x7F || c == '/') {
            escapes.push_back(out.size());
            escape(out, c);
            i++;
            continue;
        }
        out.append(raw.substr(i, len));
        i += len;
    }
    if (out.empty() || out == "." || out == "..") out = "_";
    if (out.size() > 255) {
        size_t dot = out.rfind('.');
        std::string ext = (dot != std::string::npos && dot > 0 && out.size() - dot <= 16) ? out.substr(dot) : "";
        out = cut(out.substr(0, out.size() - ext.size()), 255 - ext.size(), escapes) + ext;
    }
    r.changed = out != raw;
    return r;
}

std::string escape_for_log(std::string_view text) {
    std::string out;
    for (size_t i = 0; i < text.size();) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        size_t len = utf8_len(text, i);
        if (len == 0 || c < 0x20 || c == 0x7F) {
            escape(out, c);
            i++;
            continue;
        }
        out.append(text.substr(i, len));
        i += len;
    }
    return out;
}

std::string sanitize_rel_path(std::string_view rel) {
    std::string out;
    size_t start = 0;
    for (;;) {
        size_t slash = rel.find('/', start);
        if (start > 0) out.push_back('/');
        out += sanitize_filename(rel.substr(start, slash == std::string_view::npos ? std::string_view::npos
                                                                                    : slash - start)).name;
        if (slash == std::string_view::npos) return out;
        start = slash + 1;
    }
}

}  // namespace pf
