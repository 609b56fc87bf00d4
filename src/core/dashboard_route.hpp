// Which page a request asks for. Only fixed shapes are accepted (an asset is
// a UUID, a rendition is "thumbnail" or "preview"); anything else is 404, so
// no request text ever reaches a query or a file name.
#pragma once

#include "core/core_guard.hpp"

#include <string>
#include <string_view>

namespace pf::dash {

enum class Page {
    Health,       // GET /
    Factory,      // GET /factory
    Recent,       // GET /recent[?before=UUID]
    Asset,        // GET /asset/UUID
    Thumb,        // GET /thumb/UUID/thumbnail|preview
    Curate,       // POST /asset/UUID/curate
    ApiStatus,    // GET /api/status
    Metrics,      // GET /metrics
    Stylesheet,   // GET /static/style.css
    NotFound,
    MethodNotAllowed,
};

struct Route {
    Page page = Page::NotFound;
    std::string asset_id;  // lower-case canonical UUID for Asset/Thumb/Curate
    std::string kind;      // Thumb: thumbnail or preview
};

// method: "GET"/"HEAD"/"POST"...; path: the decoded path without the query.
Route route(std::string_view method, std::string_view path);

// A canonical lower-case UUID from text, or "" when it is not one.
std::string canonical_uuid(std::string_view text);

}  // namespace pf::dash
