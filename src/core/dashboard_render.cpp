#include "core/dashboard_render.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/errors.hpp"
#include "core/html_escape.hpp"

namespace pf::dash {
namespace {

using nlohmann::json;
using html::escape;

json parse(const std::string& text) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw Error("dashboard query returned malformed JSON");
    return j;
}

std::string s(const json& j, const char* k) {
    auto it = j.find(k);
    if (it == j.end() || it->is_null()) return "";
    if (it->is_string()) return it->get<std::string>();
    return it->dump();
}

double num(const json& j, const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

bool truthy(const json& j, const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_boolean() && it->get<bool>();
}

const json& arr(const json& j, const char* k) {
    static const json empty = json::array();
    auto it = j.find(k);
    return it != j.end() && it->is_array() ? *it : empty;
}

std::string fmt(const char* f, double v) {
    char b[64];
    snprintf(b, sizeof b, f, v);
    return b;
}

std::string count(double v) { return fmt("%.0f", v); }

std::string bytes(double b) {
    const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    int u = 0;
    while (b >= 1024.0 && u < 5) {
        b /= 1024.0;
        u++;
    }
    return fmt(u == 0 ? "%.0f" : "%.1f", b) + " " + units[u];
}

std::string age(double secs) {
    if (secs < 90) return count(secs) + " s";
    if (secs < 5400) return count(std::round(secs / 60)) + " min";
    if (secs < 172800) return count(std::round(secs / 3600)) + " h";
    return count(std::round(secs / 86400)) + " d";
}

std::string page(const std::string& title, const std::string& active, const std::string& body,
                 const PageContext& ctx) {
    auto nav = [&](const char* href, const char* label) {
        std::string cls = active == label ? " class=\"active\"" : "";
        return std::string("<a href=\"") + href + "\"" + cls + ">" + label + "</a>";
    };
    std::string out =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>" + escape(title) + " \xE2\x80\x94 photofactory</title>"
        "<link rel=\"stylesheet\" href=\"/static/style.css\"></head><body>"
        "<header><strong>photofactory</strong><nav>" +
        nav("/", "Health") + nav("/factory", "Factory") + nav("/recent", "Recent") +
        "</nav></header><main>";
    if (!ctx.notice.empty()) out += "<p class=\"notice\">" + escape(ctx.notice) + "</p>";
    out += "<h1>" + escape(title) + "</h1>" + body + "</main></body></html>\n";
    return out;
}

// A bar chart as inline SVG (no script, no inline style: the CSP allows neither).
std::string bars(const json& points, const char* label) {
    if (!points.is_array() || points.empty()) return "<p class=\"muted\">No data yet.</p>";
    double max = 1;
    for (const auto& p : points) max = std::max(max, num(p, "n"));
    const int w = 12, gap = 2, h = 80;
    int width = static_cast<int>(points.size()) * (w + gap);
    std::string out = "<figure><svg role=\"img\" aria-label=\"" + escape(label) + "\" width=\"" +
                      std::to_string(width) + "\" height=\"" + std::to_string(h + 2) + "\" viewBox=\"0 0 " +
                      std::to_string(width) + " " + std::to_string(h + 2) + "\">";
    int x = 0;
    for (const auto& p : points) {
        double n = num(p, "n");
        int bh = n > 0 ? std::max(1, static_cast<int>(std::lround(n / max * h))) : 0;
        out += "<rect class=\"bar\" x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(h - bh) + "\" width=\"" +
               std::to_string(w) + "\" height=\"" + std::to_string(bh) + "\"><title>" + escape(s(p, "t")) + ": " +
               count(n) + "</title></rect>";
        x += w + gap;
    }
    out += "</svg><figcaption>" + escape(label) + " (max " + count(max) + ")</figcaption></figure>";
    return out;
}

std::string sparkline(const json& series) {
    if (!series.is_array() || series.size() < 2) return "";
    double max = 1, min = 0;
    for (const auto& v : series)
        if (v.is_number()) max = std::max(max, v.get<double>());
    const int w = 120, h = 24;
    std::string pts;
    for (size_t i = 0; i < series.size(); i++) {
        double v = series[i].is_number() ? series[i].get<double>() : 0;
        double x = static_cast<double>(i) * w / static_cast<double>(series.size() - 1);
        double y = h - (v - min) / (max - min) * h;
        pts += fmt("%.1f", x) + "," + fmt("%.1f", y) + " ";
    }
    return "<svg class=\"spark\" width=\"" + std::to_string(w) + "\" height=\"" + std::to_string(h) +
           "\" viewBox=\"0 0 " + std::to_string(w) + " " + std::to_string(h) +
           "\" aria-hidden=\"true\"><polyline fill=\"none\" stroke=\"currentColor\" points=\"" + pts +
           "\"/></svg>";
}

std::string pct(double v) { return v < 0 ? "\xE2\x80\x94" : fmt("%.1f", v * 100) + " %"; }

}  // namespace

namespace {
// Objects merge key by key, at every depth (the fast refresh's steps each
// bring part of "pending"); anything else in b replaces a's value.
void merge_into(json& x, const json& y) {
    for (auto it = y.begin(); it != y.end(); ++it) {
        auto mine = x.find(it.key());
        if (mine != x.end() && mine->is_object() && it->is_object())
            merge_into(*mine, *it);
        else
            x[it.key()] = *it;
    }
}
}  // namespace

std::string merge_json(const std::string& a, const std::string& b) {
    json x = parse(a);
    json y = parse(b);
    merge_into(x, y);
    return x.dump(-1, ' ', false, json::error_handler_t::replace);
}

void pending_counts(const std::string& text, double out[4]) {
    json j = parse(text);
    const json p = j.value("pending", json::object());
    const char* names[4] = {"geocoding", "thumbnails", "curation", "backup"};
    for (int i = 0; i < 4; i++) out[i] = p.is_object() ? num(p, names[i]) : 0;
}

const char* colour_for_age(double a) { return a <= 60 ? "green" : a <= 180 ? "yellow" : "red"; }

std::string render_health(const std::string& text, const PageContext& ctx) {
    json j = parse(text);
    std::string body = "<table class=\"services\"><thead><tr><th>Light</th><th>Service</th><th>Status</th>"
                       "<th>Current task</th><th>Last heartbeat</th><th>Uptime 24 h</th><th>Uptime 7 d</th>"
                       "</tr></thead><tbody>";
    const json& up = arr(j, "uptime");
    for (const auto& sv : arr(j, "services")) {
        std::string name = s(sv, "name");
        double a = num(sv, "age_s");
        const char* colour = colour_for_age(a);
        double d1 = -1, d7 = -1;
        for (const auto& u : up)
            if (s(u, "name") == name) {
                d1 = num(u, "d1");
                d7 = num(u, "d7");
            }
        body += "<tr data-service=\"" + escape(name) + "\" data-colour=\"" + colour + "\"><td><span class=\"light " +
                colour + "\" title=\"" + colour + "\">\xE2\x97\x8F</span> " + colour + "</td><td>" + escape(name) +
                "</td><td class=\"status " + escape(s(sv, "status")) + "\">" + escape(s(sv, "status")) +
                "</td><td>" + escape(s(sv, "task")) + "</td><td>" + age(a) + " ago</td><td>" + pct(d1) +
                "</td><td>" + pct(d7) + "</td></tr>";
    }
    if (arr(j, "services").empty()) body += "<tr><td colspan=\"7\">No service has reported yet.</td></tr>";
    body += "</tbody></table><p class=\"muted\">Lights: green \xE2\x89\xA4 60 s since the last heartbeat, "
            "yellow \xE2\x89\xA4 180 s, red beyond. Uptime: share of 3-minute slots with a heartbeat that is "
            "not ERROR, since the service's first heartbeat in the window.</p>";
    body += "<h2>Status changes</h2><table class=\"timeline\"><thead><tr><th>When</th><th>Service</th>"
            "<th>Change</th><th>Task</th></tr></thead><tbody>";
    for (const auto& t : arr(j, "timeline"))
        body += "<tr><td>" + escape(s(t, "at")) + "</td><td>" + escape(s(t, "name")) + "</td><td>" +
                escape(s(t, "from").empty() ? "(first)" : s(t, "from")) + " \xE2\x86\x92 " + escape(s(t, "to")) +
                "</td><td>" + escape(s(t, "task")) + "</td></tr>";
    if (arr(j, "timeline").empty()) body += "<tr><td colspan=\"4\">No status change in the last 7 days.</td></tr>";
    body += "</tbody></table>";
    return page("Health", "Health", body, ctx);
}

std::string render_factory(const std::string& text, const PageContext& ctx) {
    json j = parse(text);
    std::string body = "<section class=\"cards\">";
    auto card = [&](const std::string& title, const std::string& value, const std::string& extra = "") {
        body += "<div class=\"card\"><h3>" + escape(title) + "</h3><p class=\"big\">" + value + "</p>" + extra +
                "</div>";
    };
    card("Assets", count(num(j, "assets")));
    card("Database", bytes(num(j, "db_bytes")));
    if (num(j, "storage_total") > 0)
        card("Storage free", bytes(num(j, "storage_free")), "<p class=\"muted\">of " + bytes(num(j, "storage_total")) +
                                                               "</p>");
    card("With errors", count(num(j, "errors_total")));
    body += "</section><h2>Inbox</h2><table><thead><tr><th>State</th><th>Files</th><th>Size</th></tr></thead><tbody>";
    for (const auto& r : arr(j, "inbox"))
        body += "<tr><td>" + escape(s(r, "state")) + "</td><td>" + count(num(r, "n")) + "</td><td>" +
                bytes(num(r, "bytes")) + "</td></tr>";
    if (arr(j, "inbox").empty()) body += "<tr><td colspan=\"3\">The inbox is empty.</td></tr>";
    body += "</tbody></table><h2>Queues</h2><table><thead><tr><th>Queue</th><th>Pending</th><th>Last hour</th>"
            "</tr></thead><tbody>";
    const json pending = j.value("pending", json::object());
    const json trend = j.value("trend", json::object());
    for (const char* q : {"geocoding", "thumbnails", "curation", "backup"}) {
        double n = num(pending, q);
        auto t = trend.find(q);
        body += "<tr><td>" + std::string(q) + "</td><td>" + count(n) + "</td><td>" +
                (t != trend.end() ? sparkline(*t) : "") + "</td></tr>";
    }
    body += "</tbody></table><h2>Ingested</h2>" + bars(j.value("hourly", json::array()), "files per hour, last 24 h") +
            bars(j.value("daily", json::array()), "files per day, last 30 days");
    body += "<h2>Errors</h2><table><thead><tr><th>File</th><th>Error</th><th>Ingested</th></tr></thead><tbody>";
    for (const auto& e : arr(j, "errors"))
        body += "<tr><td><a href=\"/asset/" + escape(s(e, "id")) + "\">" + escape(s(e, "name")) + "</a></td><td>" +
                escape(s(e, "message")) + "</td><td>" + escape(s(e, "at")) + "</td></tr>";
    if (arr(j, "errors").empty()) body += "<tr><td colspan=\"3\">No asset has an error.</td></tr>";
    body += "</tbody></table>";
    if (!arr(j, "countries").empty()) {
        body += "<h2>Places</h2><table><thead><tr><th>Country</th><th>Photos</th></tr></thead><tbody>";
        for (const auto& c : arr(j, "countries"))
            body += "<tr><td>" + escape(s(c, "country")) + "</td><td>" + count(num(c, "n")) + "</td></tr>";
        body += "</tbody></table>";
    }
    return page("Factory", "Factory", body, ctx);
}

std::string render_recent(const std::string& text, const PageContext& ctx) {
    json j = parse(text);
    std::string body = "<ul class=\"grid\">";
    for (const auto& a : arr(j, "assets")) {
        std::string id = escape(s(a, "id"));
        std::string name = escape(s(a, "name"));
        body += "<li><a href=\"/asset/" + id + "\">";
        if (truthy(a, "thumb"))
            body += "<img src=\"/thumb/" + id + "/thumbnail\" alt=\"" + name + "\" loading=\"lazy\">";
        else
            body += "<span class=\"nothumb\">" + escape(s(a, "kind").empty() ? "file" : s(a, "kind")) + "</span>";
        body += "</a><p class=\"name\">" + name + "</p><p class=\"muted\">" + escape(s(a, "captured"));
        if (!s(a, "place").empty()) body += " \xC2\xB7 " + escape(s(a, "place"));
        double comp = num(a, "companions");
        if (comp > 0) body += " \xC2\xB7 +" + count(comp) + (comp == 1 ? " companion" : " companions");
        body += "</p></li>";
    }
    body += "</ul>";
    if (arr(j, "assets").empty()) body += "<p>No photos yet.</p>";
    if (!s(j, "next").empty())
        body += "<p><a class=\"more\" href=\"/recent?before=" + html::url_encode(s(j, "next")) + "\">Older \xE2\x86\x92</a></p>";
    return page("Recent photos", "Recent", body, ctx);
}

std::string render_asset(const std::string& text, const PageContext& ctx) {
    json j = parse(text);
    const json a = j.value("asset", json::object());
    std::string id = escape(s(a, "id"));
    std::string body;
    if (truthy(j, "preview"))
        body += "<p><img class=\"preview\" src=\"/thumb/" + id + "/preview\" alt=\"" + escape(s(a, "original_name")) +
                "\"></p>";
    body += "<table class=\"meta\"><tbody>";
    auto row = [&](const char* label, const std::string& value) {
        if (!value.empty()) body += "<tr><th>" + std::string(label) + "</th><td>" + escape(value) + "</td></tr>";
    };
    row("Name", s(a, "original_name"));
    row("Captured", s(a, "captured_at"));
    row("UTC offset (min)", s(a, "utc_offset_minutes"));
    row("Time zone", s(a, "time_zone"));
    row("Date from", s(a, "date_source"));
    row("Kind", s(a, "media_kind") + (s(a, "media_format").empty() ? "" : " / " + s(a, "media_format")));
    row("Size", bytes(num(a, "size_bytes")));
    row("Stored at", s(a, "final_path"));
    row("Came from", s(a, "original_path"));
    row("SHA-256", s(a, "file_hash"));
    row("Location", s(a, "location"));
    const json place = j.value("place", json());
    if (place.is_object()) {
        std::string p = s(place, "city");
        for (const char* k : {"admin1", "country_name"})
            if (!s(place, k).empty()) p += (p.empty() ? "" : ", ") + s(place, k);
        row("Place", p);
    }
    row("Ingested", s(a, "ingested_at"));
    row("Error", s(a, "error_message"));
    std::string flags;
    for (const char* f : {"is_geocoded", "is_thumbnailed", "is_curated", "is_backed_up"})
        flags += std::string(f + 3) + (truthy(a, f) ? " \xE2\x9C\x93  " : " \xE2\x80\x94  ");
    row("Done", flags);
    body += "</tbody></table>";
    if (!arr(j, "companions").empty()) {
        body += "<h2>Travels with</h2><ul>";
        for (const auto& c : arr(j, "companions"))
            body += "<li><a href=\"/asset/" + escape(s(c, "id")) + "\">" + escape(s(c, "name")) + "</a></li>";
        body += "</ul>";
    }
    if (!arr(j, "sidecars").empty()) {
        body += "<h2>Sidecars</h2><ul>";
        for (const auto& c : arr(j, "sidecars"))
            body += "<li>" + escape(s(c, "name")) + " (" + escape(s(c, "kind")) + ")</li>";
        body += "</ul>";
    }
    if (!truthy(a, "is_curated")) {
        if (ctx.can_curate)
            body += "<form method=\"post\" action=\"/asset/" + id + "/curate\"><input type=\"hidden\" name=\"csrf\" value=\"" +
                    escape(ctx.csrf_token) + "\"><button type=\"submit\">Mark curated</button></form>";
        else
            body += "<p class=\"muted\">Curation needs a signed-in operator (photofactory.dashboard_auth).</p>";
    }
    return page(s(a, "original_name").empty() ? "Photo" : s(a, "original_name"), "", body, ctx);
}

std::string render_message(int status, const std::string& title, const std::string& text) {
    PageContext ctx;
    return page(title, "", "<p>" + escape(text) + "</p><p class=\"muted\">HTTP " + std::to_string(status) + "</p>", ctx);
}

namespace {

std::string prom_label(const std::string& v) {  // Prometheus label value escaping
    std::string out;
    for (char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

std::string catalog_ready_metric(bool ready) {
    return std::string("# HELP photofactory_catalog_ready 1 when this database's photofactory catalog is the version "
                       "the library needs; 0 while it waits for CREATE EXTENSION or ALTER EXTENSION photofactory "
                       "UPDATE.\n# TYPE photofactory_catalog_ready gauge\nphotofactory_catalog_ready ") +
           (ready ? "1" : "0") + "\n";
}

}  // namespace

std::string render_waiting(const std::string& reason) {
    PageContext ctx;
    return page("Waiting for the database", "",
                "<p class=\"status WARNING\">" + escape(reason) + "</p>"
                "<p>The dashboard reads nothing from this database until its photofactory catalog is the "
                "version this server's library needs; every photofactory worker waits the same way and changes "
                "nothing.</p><p>An administrator runs, in the library's database, <code>ALTER EXTENSION "
                "photofactory UPDATE;</code> (or <code>CREATE EXTENSION photofactory;</code> when it is not "
                "there yet). The pages come back by themselves, no restart needed: reload this page.</p>"
                "<p class=\"muted\">HTTP 503</p>",
                ctx);
}

std::string render_metrics_waiting(const std::string& reason) {
    return catalog_ready_metric(false) +
           "# HELP photofactory_catalog_waiting Why the photofactory workers and the dashboard are waiting.\n"
           "# TYPE photofactory_catalog_waiting gauge\nphotofactory_catalog_waiting{reason=\"" +
           prom_label(reason) + "\"} 1\n";
}

std::string render_api_waiting(const std::string& reason) {
    json out = json::object();
    out["catalog"] = {{"ready", false}, {"reason", reason}};
    out["dashboard"] = {{"status", "WARNING"}, {"current_task", "Dashboard: " + reason}};
    out["services"] = json::array();
    return out.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string render_metrics(const std::string& text) {
    json j = parse(text);
    const auto& label = prom_label;
    std::string out;
    out += "# HELP photofactory_service_up 1 when the service's last heartbeat is at most 180 s old and not ERROR.\n"
           "# TYPE photofactory_service_up gauge\n";
    for (const auto& sv : arr(j, "services"))
        out += "photofactory_service_up{service=\"" + label(s(sv, "name")) + "\"} " +
               (num(sv, "age_s") <= 180 && s(sv, "status") != "ERROR" ? "1" : "0") + "\n";
    out += "# HELP photofactory_service_heartbeat_age_seconds Seconds since the service's last heartbeat.\n"
           "# TYPE photofactory_service_heartbeat_age_seconds gauge\n";
    for (const auto& sv : arr(j, "services"))
        out += "photofactory_service_heartbeat_age_seconds{service=\"" + label(s(sv, "name")) + "\"} " +
               fmt("%.3f", num(sv, "age_s")) + "\n";
    out += "# HELP photofactory_service_status Reported status (1 for the current one).\n"
           "# TYPE photofactory_service_status gauge\n";
    for (const auto& sv : arr(j, "services"))
        for (const char* st : {"OK", "WARNING", "ERROR"})
            out += "photofactory_service_status{service=\"" + label(s(sv, "name")) + "\",status=\"" + st + "\"} " +
                   (s(sv, "status") == st ? "1" : "0") + "\n";
    out += "# HELP photofactory_queue_pending Assets waiting in each queue.\n# TYPE photofactory_queue_pending gauge\n";
    const json pending = j.value("pending", json::object());
    for (const char* q : {"geocoding", "thumbnails", "curation", "backup"})
        out += "photofactory_queue_pending{queue=\"" + std::string(q) + "\"} " + count(num(pending, q)) + "\n";
    out += "# HELP photofactory_assets Assets in the ledger.\n# TYPE photofactory_assets gauge\n"
           "photofactory_assets " + count(num(j, "assets")) + "\n";
    out += "# HELP photofactory_assets_with_errors Assets with has_errors.\n# TYPE photofactory_assets_with_errors gauge\n"
           "photofactory_assets_with_errors " + count(num(j, "errors_total")) + "\n";
    out += "# HELP photofactory_ingested_last_hour Assets ingested in the last hour.\n"
           "# TYPE photofactory_ingested_last_hour gauge\nphotofactory_ingested_last_hour " +
           count(num(j, "ingested_1h")) + "\n";
    // The cached figures' refreshes run in the dashboard's one loop: a slow
    // one holds up every request that arrives meanwhile.
    const json refresh = j.value("refresh", json::object());
    out += "# HELP photofactory_dashboard_refresh_seconds How long the dashboard's last refresh of its cached "
           "figures took, all steps (fast: queues, every 30 s; slow: uptime, timeline, daily counts, every 5 min).\n"
           "# TYPE photofactory_dashboard_refresh_seconds gauge\n";
    for (const char* k : {"fast", "slow"})
        out += std::string("photofactory_dashboard_refresh_seconds{stats=\"") + k + "\"} " +
               fmt("%.6f", num(refresh, (std::string(k) + "_ms").c_str()) / 1000.0) + "\n";
    // A refresh runs in steps of one query per turn of the loop: its longest
    // step is the longest a request can wait behind it.
    out += "# HELP photofactory_dashboard_refresh_step_seconds Longest single step of the last refresh "
           "(the longest a request waited behind it).\n"
           "# TYPE photofactory_dashboard_refresh_step_seconds gauge\n";
    for (const char* k : {"fast", "slow"})
        out += std::string("photofactory_dashboard_refresh_step_seconds{stats=\"") + k + "\"} " +
               fmt("%.6f", num(refresh, (std::string(k) + "_step_ms").c_str()) / 1000.0) + "\n";
    out += "# HELP photofactory_dashboard_refreshes_total Refreshes of the dashboard's cached figures.\n"
           "# TYPE photofactory_dashboard_refreshes_total counter\n";
    for (const char* k : {"fast", "slow"})
        out += std::string("photofactory_dashboard_refreshes_total{stats=\"") + k + "\"} " +
               count(num(refresh, (std::string(k) + "_runs").c_str())) + "\n";
    out += catalog_ready_metric(true);
    return out;
}

std::string render_api_status(const std::string& text) {
    json j = parse(text);
    json out = json::object();
    json services = json::array();
    for (const auto& sv : arr(j, "services"))
        services.push_back({{"service", s(sv, "name")},
                            {"status", s(sv, "status")},
                            {"current_task", s(sv, "task")},
                            {"last_heartbeat", s(sv, "last")},
                            {"age_seconds", num(sv, "age_s")},
                            {"colour", colour_for_age(num(sv, "age_s"))}});
    out["services"] = services;
    out["pending"] = j.value("pending", json::object());
    out["assets"] = num(j, "assets");
    out["assets_with_errors"] = num(j, "errors_total");
    out["ingested_last_hour"] = num(j, "ingested_1h");
    // Uptime as the health page shows it (share of 3-minute slots not ERROR),
    // with the moment it was computed for (figures are refreshed every 5 min).
    json uptime = json::array();
    for (const auto& u : arr(j, "uptime"))
        uptime.push_back({{"service", s(u, "name")}, {"d1", u.value("d1", json())}, {"d7", u.value("d7", json())}});
    out["uptime"] = uptime;
    out["uptime_at"] = j.value("uptime_at", json());
    out["catalog"] = {{"ready", true}};
    return out.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

const std::string& stylesheet() {
    static const std::string css = R"CSS(
:root { color-scheme: light dark; --fg: #1b1f23; --bg: #fafbfc; --muted: #6a737d; --line: #e1e4e8; }
@media (prefers-color-scheme: dark) { :root { --fg: #e1e4e8; --bg: #16191d; --muted: #959da5; --line: #2f363d; } }
body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
header { display: flex; gap: 1.5em; align-items: center; padding: .6em 1em; border-bottom: 1px solid var(--line); }
nav a { margin-right: 1em; color: inherit; text-decoration: none; } nav a.active { font-weight: bold; text-decoration: underline; }
main { padding: 0 1em 2em; max-width: 1200px; }
table { border-collapse: collapse; margin: .5em 0 1.5em; } th, td { text-align: left; padding: .3em .7em; border-bottom: 1px solid var(--line); vertical-align: top; }
td { overflow-wrap: anywhere; } .muted { color: var(--muted); font-size: 90%; }
.light { font-size: 130%; } .light.green { color: #2ea44f; } .light.yellow { color: #dbab09; } .light.red { color: #d73a49; }
.status.ERROR { color: #d73a49; font-weight: bold; } .status.WARNING { color: #b08800; }
.cards { display: flex; flex-wrap: wrap; gap: 1em; } .card { border: 1px solid var(--line); border-radius: 6px; padding: .3em 1em; min-width: 10em; }
.big { font-size: 160%; margin: .2em 0; } .bar { fill: #0366d6; } .spark { color: #0366d6; }
.grid { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 1em; }
.grid img, .nothumb { width: 100%; height: 150px; object-fit: cover; display: block; background: var(--line); border-radius: 4px; }
.nothumb { display: flex; align-items: center; justify-content: center; color: var(--muted); }
.name { margin: .2em 0 0; overflow-wrap: anywhere; } .preview { max-width: 100%; max-height: 80vh; }
.notice { background: #dcffe4; color: #1b1f23; padding: .5em 1em; border-radius: 4px; }
)CSS";
    return css;
}

}  // namespace pf::dash
