// The dashboard's pure parts: routing, escaping, auth and the rendering of
// each page from its query's JSON (test/e2e/95_dashboard.sh drives the real
// server with a headless Chromium).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "core/dashboard_auth.hpp"
#include "core/dashboard_render.hpp"
#include "core/dashboard_route.hpp"
#include "core/errors.hpp"
#include "core/html_escape.hpp"

using namespace pf::dash;

TEST(HtmlEscape, MarkupBecomesText) {
    EXPECT_EQ(pf::html::escape("<img src=x onerror=alert(1)>.jpg"), "&lt;img src=x onerror=alert(1)&gt;.jpg");
    EXPECT_EQ(pf::html::escape("a&b\"c'd"), "a&amp;b&quot;c&#39;d");
    EXPECT_EQ(pf::html::escape("caf\xC3\xA9 \xF0\x9F\x93\xB7"), "caf\xC3\xA9 \xF0\x9F\x93\xB7");
}

TEST(HtmlEscape, InvalidUtf8AndControlsAreReplaced) {
    EXPECT_EQ(pf::html::escape("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
    EXPECT_EQ(pf::html::escape("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");        // overlong '/'
    EXPECT_EQ(pf::html::escape("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
    EXPECT_EQ(pf::html::escape("x\x01y\x7f"), "x\xEF\xBF\xBDy\xEF\xBF\xBD");
    EXPECT_EQ(pf::html::escape("line\nnext"), "line\nnext");
    EXPECT_EQ(pf::html::url_encode("a b/../c?d=1"), "a%20b%2F..%2Fc%3Fd%3D1");
}

TEST(DashboardRoute, FixedShapesOnly) {
    const std::string id = "0b6f4a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
    EXPECT_EQ(route("GET", "/").page, Page::Health);
    EXPECT_EQ(route("HEAD", "/metrics").page, Page::Metrics);
    EXPECT_EQ(route("POST", "/").page, Page::MethodNotAllowed);
    Route r = route("GET", "/asset/0B6F4A3E-1C2D-4E5F-8A9B-0C1D2E3F4A5B");
    EXPECT_EQ(r.page, Page::Asset);
    EXPECT_EQ(r.asset_id, id);
    r = route("GET", "/thumb/" + id + "/preview");
    EXPECT_EQ(r.page, Page::Thumb);
    EXPECT_EQ(r.kind, "preview");
    EXPECT_EQ(route("POST", "/asset/" + id + "/curate").page, Page::Curate);
    EXPECT_EQ(route("GET", "/asset/" + id + "/curate").page, Page::MethodNotAllowed);
    for (const std::string& bad : std::vector<std::string>{"/thumb/" + id + "/../../etc/passwd", "/thumb/" + id + "/thumbnail/", "/thumb/../" + id,
                            "/asset/" + id + "x", "/asset/not-a-uuid", "/static/../x", "/recent/", "//", "/asset/",
                            "/thumb/" + id, "/thumb/" + id + "/original"})
        EXPECT_EQ(route("GET", bad).page, Page::NotFound) << bad;
    EXPECT_EQ(canonical_uuid("0b6f4a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5"), "");
    EXPECT_EQ(canonical_uuid("0b6f4a3e-1c2d-4e5f-8a9b_0c1d2e3f4a5b"), "");
}

TEST(DashboardAuth, TokensAndHashes) {
    EXPECT_FALSE(token_matches("", "anything"));
    EXPECT_FALSE(token_matches("0123456789abcdef", ""));
    EXPECT_TRUE(token_matches("0123456789abcdef", "0123456789abcdef"));
    EXPECT_FALSE(token_matches("0123456789abcdef", "0123456789abcdeF"));
    // printf %s 0123456789abcdef | sha256sum
    std::string hashed = "sha256:9f9f5111f7b27a781f1f1ddde5ebc2dd2b796bfc7365c9c28b548e564176929f";
    EXPECT_TRUE(token_matches(hashed, "0123456789abcdef"));
    EXPECT_FALSE(token_matches(hashed, "sha256:9f9f5111f7b27a781f1f1ddde5ebc2dd2b796bfc7365c9c28b548e564176929f"));
    std::string why;
    EXPECT_TRUE(auth_setting_valid("", why));
    EXPECT_TRUE(auth_setting_valid(hashed, why));
    EXPECT_FALSE(auth_setting_valid("short", why));
    EXPECT_FALSE(auth_setting_valid("sha256:xyz", why));
    EXPECT_FALSE(auth_setting_valid("with a space in it!", why));
}

TEST(DashboardAuth, ListenAddresses) {
    EXPECT_TRUE(is_loopback_listen("127.0.0.1:8642"));
    EXPECT_TRUE(is_loopback_listen("127.1.2.3:80"));
    EXPECT_TRUE(is_loopback_listen("[::1]:8642"));
    EXPECT_TRUE(is_loopback_listen("localhost:8642"));
    EXPECT_FALSE(is_loopback_listen("0.0.0.0:8642"));
    EXPECT_FALSE(is_loopback_listen("192.168.1.2:8642"));
    EXPECT_FALSE(is_loopback_listen("[::]:8642"));
    EXPECT_FALSE(is_loopback_listen("127.0.0.1.example.com:80"));
    std::string host;
    int port = 0;
    EXPECT_TRUE(split_listen("[fe80::1]:443", host, port));
    EXPECT_EQ(host, "fe80::1");
    EXPECT_EQ(port, 443);
    EXPECT_FALSE(split_listen("127.0.0.1", host, port));
    EXPECT_FALSE(split_listen("127.0.0.1:0", host, port));
    EXPECT_FALSE(split_listen("127.0.0.1:99999", host, port));
    EXPECT_FALSE(split_listen("::1:80", host, port));
}

TEST(DashboardAuth, CsrfTokensAreBoundToTheActionAndKey) {
    CsrfKey k1, k2;
    std::string t = k1.token("curate:abc");
    EXPECT_EQ(t.size(), 64u);
    EXPECT_TRUE(k1.check("curate:abc", t));
    EXPECT_FALSE(k1.check("curate:abd", t));
    EXPECT_FALSE(k2.check("curate:abc", t));
    EXPECT_FALSE(k1.check("curate:abc", ""));
}

TEST(DashboardRender, HealthLightsFollowTheSeedThresholds) {
    EXPECT_STREQ(colour_for_age(0), "green");
    EXPECT_STREQ(colour_for_age(60), "green");
    EXPECT_STREQ(colour_for_age(90), "yellow");
    EXPECT_STREQ(colour_for_age(180), "yellow");
    EXPECT_STREQ(colour_for_age(200), "red");
    std::string html = render_health(R"({"services": [
        {"name": "librarian", "status": "OK", "task": "Idle", "age_s": 5},
        {"name": "geocoder", "status": "WARNING", "task": "<b>no places</b>", "age_s": 90},
        {"name": "backup", "status": "ERROR", "task": null, "age_s": 200}],
      "uptime": [{"name": "librarian", "d1": 1.0, "d7": 0.9925}],
      "timeline": [{"at": "2026-11-30 04:00:00+00", "name": "backup", "from": "OK", "to": "ERROR", "task": "disk gone"}]})",
                                     PageContext{});
    EXPECT_NE(html.find("data-service=\"librarian\" data-colour=\"green\""), std::string::npos);
    EXPECT_NE(html.find("data-service=\"geocoder\" data-colour=\"yellow\""), std::string::npos);
    EXPECT_NE(html.find("data-service=\"backup\" data-colour=\"red\""), std::string::npos);
    EXPECT_NE(html.find("&lt;b&gt;no places&lt;/b&gt;"), std::string::npos);
    EXPECT_EQ(html.find("<b>no places"), std::string::npos);
    EXPECT_NE(html.find("99.2 %"), std::string::npos);
    EXPECT_NE(html.find("OK \xE2\x86\x92 ERROR"), std::string::npos);
    EXPECT_THROW(render_health("not json", PageContext{}), pf::Error);
}

TEST(DashboardRender, HostileFileNamesRenderAsText) {
    std::string evil = "<img src=x onerror=alert(1)>.jpg";
    std::string json = R"({"assets": [{"id": "0b6f4a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "name": "<img src=x onerror=alert(1)>.jpg",
                          "captured": "2024-01-01 10:00:00", "kind": "photo", "place": "\"Paris\"", "companions": 1, "thumb": true}],
                          "next": "0b6f4a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"})";
    std::string html = render_recent(json, PageContext{});
    EXPECT_EQ(html.find(evil), std::string::npos);
    EXPECT_NE(html.find("&lt;img src=x onerror=alert(1)&gt;.jpg"), std::string::npos);
    EXPECT_NE(html.find("src=\"/thumb/0b6f4a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b/thumbnail\""), std::string::npos);
    EXPECT_NE(html.find("&quot;Paris&quot;"), std::string::npos);
    EXPECT_NE(html.find("+1 companion"), std::string::npos);
    EXPECT_NE(html.find("/recent?before=0b6f4a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"), std::string::npos);
}

TEST(DashboardRender, AssetPageCurationNeedsAnOperator) {
    std::string json = R"({"asset": {"id": "0b6f4a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "original_name": "IMG_1.JPG",
        "final_path": "/s/Originals/2024/2024-01-01/IMG_1.JPG", "size_bytes": 2048, "is_curated": false,
        "location": {"lat": 48.85, "lon": 2.35}},
        "place": {"city": "Paris", "admin1": "\u00cele-de-France", "country_name": "France"},
        "companions": [{"id": "1b6f4a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "name": "IMG_1.MOV"}], "preview": true})";
    std::string anon = render_asset(json, PageContext{});
    EXPECT_EQ(anon.find("<form"), std::string::npos);
    EXPECT_NE(anon.find("Paris, \xC3\x8Ele-de-France, France"), std::string::npos);
    EXPECT_NE(anon.find("2.0 kB"), std::string::npos);
    PageContext op;
    op.can_curate = true;
    op.csrf_token = "abc\"def";
    std::string html = render_asset(json, op);
    EXPECT_NE(html.find("action=\"/asset/0b6f4a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b/curate\""), std::string::npos);
    EXPECT_NE(html.find("value=\"abc&quot;def\""), std::string::npos);
}

TEST(DashboardRender, MetricsAndApi) {
    std::string json = R"({"services": [{"name": "lib\"rarian", "status": "OK", "task": "x", "age_s": 5, "last": "t"},
                                        {"name": "backup", "status": "ERROR", "age_s": 5}],
                           "pending": {"geocoding": 3, "thumbnails": 0, "curation": 7, "backup": 1},
                           "assets": 11, "errors_total": 2, "errors": [{"id": "x"}], "ingested_1h": 4,
                           "uptime": [{"name": "backup", "d1": null, "d7": 0.5}], "uptime_at": "2026-11-30T08:00:00.000001+00",
                           "refresh": {"fast_ms": 12.5, "slow_ms": 250, "fast_runs": 3, "slow_runs": 1,
                                       "fast_step_ms": 12.5, "slow_step_ms": 31.25}})";
    std::string m = render_metrics(json);
    EXPECT_NE(m.find("photofactory_dashboard_refresh_seconds{stats=\"slow\"} 0.250000\n"), std::string::npos);
    EXPECT_NE(m.find("photofactory_dashboard_refreshes_total{stats=\"fast\"} 3\n"), std::string::npos);
    EXPECT_NE(m.find("photofactory_dashboard_refresh_step_seconds{stats=\"slow\"} 0.031250\n"), std::string::npos);
    EXPECT_NE(m.find("photofactory_service_up{service=\"lib\\\"rarian\"} 1\n"), std::string::npos);
    EXPECT_NE(m.find("photofactory_service_up{service=\"backup\"} 0\n"), std::string::npos);
    EXPECT_NE(m.find("photofactory_queue_pending{queue=\"curation\"} 7\n"), std::string::npos);
    EXPECT_NE(m.find("photofactory_assets 11\n"), std::string::npos);
    EXPECT_NE(m.find("# TYPE photofactory_service_heartbeat_age_seconds gauge"), std::string::npos);
    std::string api = render_api_status(json);
    EXPECT_NE(api.find("\"colour\":\"green\""), std::string::npos);
    EXPECT_NE(api.find("\"assets\":11"), std::string::npos);
    EXPECT_NE(api.find("\"assets_with_errors\":2"), std::string::npos);
    EXPECT_NE(m.find("photofactory_assets_with_errors 2\n"), std::string::npos);
    EXPECT_NE(m.find("photofactory_catalog_ready 1\n"), std::string::npos);
    EXPECT_NE(api.find("\"catalog\":{\"ready\":true}"), std::string::npos);
    EXPECT_NE(api.find("\"uptime\":[{\"d1\":null,\"d7\":0.5,\"service\":\"backup\"}]"), std::string::npos);
    EXPECT_NE(api.find("\"uptime_at\":\"2026-11-30T08:00:00.000001+00\""), std::string::npos);
}

// A library newer than the database's catalog: the pages say why, escaped,
// and what fixes it; the machine views say "not ready" in their own terms.
TEST(DashboardRender, WaitingForTheCatalog) {
    const std::string reason =
        "waiting for ALTER EXTENSION photofactory UPDATE (catalog 0.1.0<script>\"x\n, library needs 0.2.0)";
    std::string html = render_waiting(reason);
    EXPECT_NE(html.find("waiting for ALTER EXTENSION photofactory UPDATE (catalog 0.1.0&lt;script&gt;&quot;x"),
              std::string::npos);
    EXPECT_EQ(html.find("<script>"), std::string::npos);
    EXPECT_NE(html.find("<code>ALTER EXTENSION photofactory UPDATE;</code>"), std::string::npos);
    EXPECT_NE(html.find("no restart needed"), std::string::npos);
    EXPECT_NE(html.find("<link rel=\"stylesheet\" href=\"/static/style.css\">"), std::string::npos);

    std::string m = render_metrics_waiting(reason);
    EXPECT_NE(m.find("\nphotofactory_catalog_ready 0\n"), std::string::npos);
    EXPECT_NE(m.find("photofactory_catalog_waiting{reason=\"waiting for ALTER EXTENSION photofactory UPDATE "
                     "(catalog 0.1.0<script>\\\"x\\n, library needs 0.2.0)\"} 1\n"),
              std::string::npos);
    EXPECT_EQ(m.find("photofactory_service_up"), std::string::npos);  // no stale figures

    nlohmann::json api = nlohmann::json::parse(render_api_waiting(reason));
    EXPECT_EQ(api["catalog"]["ready"], false);
    EXPECT_EQ(api["catalog"]["reason"], reason);
    EXPECT_EQ(api["dashboard"]["status"], "WARNING");
    EXPECT_TRUE(api["services"].is_array() && api["services"].empty());
}

TEST(DashboardRender, FactoryPage) {
    std::string html = render_factory(R"({"assets": 5, "db_bytes": 10485760, "storage_free": 1073741824, "storage_total": 2147483648,
        "errors_total": 1, "inbox": [{"state": "settling", "n": 2, "bytes": 100}],
        "pending": {"geocoding": 1}, "trend": {"geocoding": [3, 2, 1]},
        "hourly": [{"t": "10:00", "n": 3}, {"t": "11:00", "n": 0}],
        "errors": [{"id": "0b6f4a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "name": "<x>.jpg", "message": "bad", "at": "t"}],
        "countries": [{"country": "France", "n": 4}]})",
                                       PageContext{});
    EXPECT_NE(html.find("10.0 MB"), std::string::npos);
    EXPECT_NE(html.find("<polyline"), std::string::npos);
    EXPECT_NE(html.find("<title>10:00: 3</title>"), std::string::npos);
    EXPECT_NE(html.find("&lt;x&gt;.jpg"), std::string::npos);
    EXPECT_NE(html.find("France"), std::string::npos);
}

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "core/open_beneath.hpp"
#include "temp_dir.hpp"

TEST(OpenBeneath, RefusesEscapesAndLinks) {
    pf::test::TempDir t;
    ::mkdir((t.path() + "/root").c_str(), 0700);
    ::mkdir((t.path() + "/root/Thumbnails").c_str(), 0700);
    std::ofstream(t.path() + "/root/Thumbnails/a.webp") << "img";
    std::ofstream(t.path() + "/secret") << "secret";
    ASSERT_EQ(::symlink((t.path() + "/secret").c_str(), (t.path() + "/root/Thumbnails/link.webp").c_str()), 0);
    ASSERT_EQ(::symlink(t.path().c_str(), (t.path() + "/root/up").c_str()), 0);
    int root = ::open((t.path() + "/root").c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_GE(root, 0);
    int fd = pf::open_regular_beneath(root, "Thumbnails/a.webp");
    EXPECT_GE(fd, 0);
    if (fd >= 0) ::close(fd);
    EXPECT_EQ(pf::open_regular_beneath(root, "Thumbnails/link.webp"), -1);
    EXPECT_EQ(errno, ELOOP);
    EXPECT_EQ(pf::open_regular_beneath(root, "up/secret"), -1);
    EXPECT_EQ(pf::open_regular_beneath(root, "../secret"), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(pf::open_regular_beneath(root, "Thumbnails/../../secret"), -1);
    EXPECT_EQ(pf::open_regular_beneath(root, "/etc/passwd"), -1);
    EXPECT_EQ(pf::open_regular_beneath(root, "Thumbnails"), -1);  // a folder is not served
    ::close(root);
}

TEST(DashboardRender, MergeJson) {
    EXPECT_EQ(merge_json(R"({"a":1,"b":2})", R"({"b":3,"c":[1]})"), R"({"a":1,"b":3,"c":[1]})");
    EXPECT_THROW(merge_json("{}", "[1]"), pf::Error);
    // The fast refresh's steps each bring part of "pending".
    EXPECT_EQ(merge_json(R"({"pending":{"geocoding":1,"thumbnails":2},"x":{"a":1}})",
                         R"({"pending":{"curation":3,"thumbnails":4},"x":5})"),
              R"({"pending":{"curation":3,"geocoding":1,"thumbnails":4},"x":5})");
    // Trend samples come from "pending" only, never from an error message quoting a key.
    double c[4];
    pending_counts(R"({"errors":[{"message":"\"geocoding\": 99"}],"pending":{"geocoding":1,"backup":4}})", c);
    EXPECT_EQ(c[0], 1);
    EXPECT_EQ(c[1], 0);
    EXPECT_EQ(c[3], 4);
}
