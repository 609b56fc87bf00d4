// The dashboard's pages, rendered on the server from the JSON the glue's
// fixed queries return (docs/dashboard.md lists each page's fields). Pure: no
// I/O; every string from the data is escaped (html_escape). Pages work
// without JavaScript: charts are inline SVG drawn here.
#pragma once

#include "core/core_guard.hpp"

#include <string>

namespace pf::dash {

struct PageContext {
    bool can_curate = false;       // an authenticated session: show the curate form
    std::string csrf_token;        // for the asset page's form (per asset)
    std::string notice;            // one line shown at the top (e.g. "marked curated")
};

// Each takes the query's JSON text; malformed JSON throws pf::Error.
std::string render_health(const std::string& json, const PageContext& ctx);
std::string render_factory(const std::string& json, const PageContext& ctx);
std::string render_recent(const std::string& json, const PageContext& ctx);
std::string render_asset(const std::string& json, const PageContext& ctx);
std::string render_message(int http_status, const std::string& title, const std::string& text);

// Machine-readable views of the status JSON (the Health page's query).
std::string render_metrics(const std::string& json);     // Prometheus text format 0.0.4
std::string render_api_status(const std::string& json);  // JSON

// While this database's photofactory catalog is missing or older than the
// library needs (the glue's catalog_wait_reason(), e.g. "waiting for ALTER
// EXTENSION photofactory UPDATE (catalog 0.1.0, library needs 0.2.0)"), the
// dashboard reads nothing else: these say why, escaped, and that it resumes
// by itself once the catalog is updated.
std::string render_waiting(const std::string& reason);          // HTML (served as 503)
std::string render_metrics_waiting(const std::string& reason);  // photofactory_catalog_ready 0
std::string render_api_waiting(const std::string& reason);      // JSON, catalog.ready = false

// The one stylesheet (served as /static/style.css: the CSP forbids inline styles).
const std::string& stylesheet();

// Merges two JSON objects (keys of `b` win; nested objects merge key by key)
// into one JSON text; the glue combines a page's live query with the cached
// statistics, and the fast refresh's steps, this way.
std::string merge_json(const std::string& a, const std::string& b);

// The four queue depths of a fast refresh's "pending" object (geocoding,
// thumbnails, curation, backup; 0 when absent), for the trend samples.
void pending_counts(const std::string& text, double out[4]);

// Seed thresholds: green <= 60 s since the last heartbeat, yellow <= 180 s, red beyond.
const char* colour_for_age(double age_seconds);

}  // namespace pf::dash
