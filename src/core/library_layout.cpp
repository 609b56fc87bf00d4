#include "core/library_layout.hpp"

#include <cstdio>

namespace pf {

std::string date_folder(const LocalDateTime& t) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d/%04d-%02d-%02d", t.year, t.year, t.month, t.day);
    return buf;
}

std::string collision_name(std::string_view name, int n) {
    if (n <= 0) return std::string(name);
    size_t dot = name.rfind('.');
    if (dot == 0 || dot == std::string_view::npos) dot = name.size();
    std::string suffix = "~" + std::to_string(n);
    std::string stem(name.substr(0, dot));
    std::string ext(name.substr(dot));
    size_t room = 255 - suffix.size() - ext.size();
    if (stem.size() > room) {
        stem.resize(room);
        while (!stem.empty() && (static_cast<unsigned char>(stem.back()) & 0xC0) == 0x80) stem.pop_back();
        if (!stem.empty() && (static_cast<unsigned char>(stem.back()) & 0xC0) == 0xC0) stem.pop_back();
    }
    return stem + suffix + ext;
}

}  // namespace pf
