#include "core/dashboard_route.hpp"

namespace pf::dash {

std::string canonical_uuid(std::string_view t) {
    if (t.size() != 36) return "";
    std::string out;
    for (size_t i = 0; i < 36; i++) {
        char c = t[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash) {
            if (c != '-') return "";
        } else if (c >= '0' && c <= '9') {
        } else if (c >= 'a' && c <= 'f') {
        } else if (c >= 'A' && c <= 'F') {
            c = static_cast<char>(c - 'A' + 'a');
        } else {
            return "";
        }
        out += c;
    }
    return out;
}

Route route(std::string_view method, std::string_view path) {
    Route r;
    bool get = method == "GET" || method == "HEAD";
    bool post = method == "POST";
    auto only_get = [&](Page p) {
        r.page = get ? p : Page::MethodNotAllowed;
        return r;
    };
    if (path == "/") return only_get(Page::Health);
    if (path == "/factory") return only_get(Page::Factory);
    if (path == "/recent") return only_get(Page::Recent);
    if (path == "/api/status") return only_get(Page::ApiStatus);
    if (path == "/metrics") return only_get(Page::Metrics);
    if (path == "/static/style.css") return only_get(Page::Stylesheet);

    constexpr std::string_view asset = "/asset/", thumb = "/thumb/";
    if (path.substr(0, asset.size()) == asset) {
        std::string_view rest = path.substr(asset.size());
        r.asset_id = canonical_uuid(rest.substr(0, 36));
        if (r.asset_id.empty()) return Route{};
        rest = rest.substr(36);
        if (rest.empty()) return only_get(Page::Asset);
        if (rest == "/curate") {
            r.page = post ? Page::Curate : Page::MethodNotAllowed;
            return r;
        }
        return Route{};
    }
    if (path.substr(0, thumb.size()) == thumb) {
        std::string_view rest = path.substr(thumb.size());
        r.asset_id = canonical_uuid(rest.substr(0, 36));
        if (r.asset_id.empty() || rest.size() < 37 || rest[36] != '/') return Route{};
        std::string_view kind = rest.substr(37);
        if (kind != "thumbnail" && kind != "preview") return Route{};
        r.kind = std::string(kind);
        return only_get(Page::Thumb);
    }
    return Route{};
}

}  // namespace pf::dash
