// Waiting for the catalog: while the database's photofactory catalog is
// missing or older than this library, pages answer with why (503; /metrics
// 200 with photofactory_catalog_ready 0), and a request looks again so the
// pages return the moment ALTER EXTENSION ... UPDATE commits.
#include <cstdio>

#include "pg/boundary.hpp"
#include "pg/catalog_version.hpp"
#include "pg/dashboard_internal.hpp"
#include "pg/pg_headers.hpp"
#include "pg/worker.hpp"

namespace pf::pg::dashw {

void note_catalog(bool ready) {
    bool was = g_catalog_ok;
    g_catalog_ok = ready;
    if (!ready) snprintf(g_wait_reason, sizeof g_wait_reason, "%s", catalog_wait_reason());
    if (ready && !was) refresh_stats(true);  // the probes (places, thumbnails) too
}

void catalog_check_step(void* arg) { *static_cast<bool*>(arg) = extension_ready(); }

// For a request while waiting: has the update committed since? One look at
// pg_extension, so the pages work again at once, not at the next heartbeat.
bool catalog_ok_now() {
    if (g_catalog_ok) return true;
    bool ready = false;
    if (run_in_transaction("dashboard catalog check", catalog_check_step, &ready)) note_catalog(ready);
    return g_catalog_ok;
}

MHD_Result send_waiting(MHD_Connection* c, dash::Page page) {
    WaitView v = page == dash::Page::Metrics ? WaitView::Metrics : page == dash::Page::ApiStatus ? WaitView::Api : WaitView::Html;
    size_t len = 0;
    char* body = waiting_view(v, g_wait_reason, &len);
    // Prometheus keeps scraping a 200 (photofactory_catalog_ready 0); a
    // health check of /api/status or a browser sees 503 and when to retry.
    if (v == WaitView::Metrics) return send_buffer(c, 200, body, len, "text/plain; version=0.0.4; charset=utf-8", "no-store");
    return send_buffer(c, 503, body, len, v == WaitView::Api ? "application/json" : "text/html; charset=utf-8",
                       "no-store", "10");
}

}  // namespace pf::pg::dashw
