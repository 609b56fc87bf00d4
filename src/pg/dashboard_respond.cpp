// Rendering and sending a response: the C++ renderer (core/dashboard_render)
// behind noexcept wrappers that return malloc'd plain buffers, so no
// exception reaches libmicrohttpd's frames or a PostgreSQL longjmp; every
// response gets the same security headers and a Server-Timing figure.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "core/dashboard_render.hpp"
#include "pg/dashboard_internal.hpp"

namespace pf::pg::dashw {

// --- C++ through noexcept wrappers: plain results, malloc'd buffers ---

char* dup_string(const std::string& s, size_t* len) {
    char* p = static_cast<char*>(malloc(s.size() + 1));
    if (p == nullptr) return nullptr;
    memcpy(p, s.data(), s.size() + 1);
    if (len) *len = s.size();
    return p;
}

PlainRoute route_of(const char* method, const char* url) noexcept {
    PlainRoute r{dash::Page::NotFound, "", ""};
    try {
        dash::Route x = dash::route(method, url);
        r.page = x.page;
        snprintf(r.id, sizeof r.id, "%s", x.asset_id.c_str());
        snprintf(r.kind, sizeof r.kind, "%s", x.kind.c_str());
    } catch (...) {
        r.page = dash::Page::NotFound;
    }
    return r;
}

char* render(const RenderIn& in, size_t* len, char* err, size_t errlen) noexcept {
    try {
        std::string merged = "{}";
        for (const char* part : {in.slow, in.fast, in.trend, in.live})
            if (part != nullptr && part[0] != '\0') merged = dash::merge_json(merged, part);
        dash::PageContext ctx;
        ctx.can_curate = in.can_curate;
        if (in.notice) ctx.notice = in.notice;
        if (in.can_curate && in.asset_id && g_csrf) ctx.csrf_token = g_csrf->token(std::string("curate:") + in.asset_id);
        std::string out;
        switch (in.what) {
            case Render::Health: out = dash::render_health(merged, ctx); break;
            case Render::Factory: out = dash::render_factory(merged, ctx); break;
            case Render::Recent: out = dash::render_recent(merged, ctx); break;
            case Render::Asset: out = dash::render_asset(merged, ctx); break;
            case Render::Metrics: out = dash::render_metrics(merged); break;
            case Render::Api: out = dash::render_api_status(merged); break;
            case Render::Css: out = dash::stylesheet(); break;
        }
        return dup_string(out, len);
    } catch (const std::exception& e) {
        snprintf(err, errlen, "%s", e.what());
    } catch (...) {
        snprintf(err, errlen, "rendering failed");
    }
    return nullptr;
}

char* message_page(int status, const char* title, const char* text, size_t* len) noexcept {
    try {
        return dup_string(dash::render_message(status, title, text), len);
    } catch (...) {
        return nullptr;
    }
}

char* waiting_view(WaitView v, const char* reason, size_t* len) noexcept {
    try {
        switch (v) {
            case WaitView::Html: return dup_string(dash::render_waiting(reason), len);
            case WaitView::Metrics: return dup_string(dash::render_metrics_waiting(reason), len);
            case WaitView::Api: return dup_string(dash::render_api_waiting(reason), len);
        }
    } catch (...) {
    }
    return nullptr;
}

// --- HTTP ---

// Server time of this request so far (from the access handler's entry), for
// the bench and the browser's devtools.
void add_server_timing(MHD_Response* r) {
    char v[64];
    snprintf(v, sizeof v, "app;dur=%.3f", ms_since(g_request_start));
    MHD_add_response_header(r, "Server-Timing", v);
}

MHD_Result send_buffer(MHD_Connection* c, unsigned status, char* buf, size_t len, const char* type,
                       const char* cache, const char* retry_after) {
    if (buf == nullptr) {
        static char oom[] = "Internal error\n";
        MHD_Response* r = MHD_create_response_from_buffer(strlen(oom), oom, MHD_RESPMEM_PERSISTENT);
        MHD_Result ret = MHD_queue_response(c, MHD_HTTP_INTERNAL_SERVER_ERROR, r);
        MHD_destroy_response(r);
        return ret;
    }
    MHD_Response* r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
    if (r == nullptr) {
        free(buf);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; "
                            "frame-ancestors 'none'; base-uri 'none'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
    if (retry_after != nullptr) MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
    add_server_timing(r);
    MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

MHD_Result send_message(MHD_Connection* c, unsigned status, const char* title, const char* text) {
    size_t len = 0;
    char* page = message_page(static_cast<int>(status), title, text, &len);
    return send_buffer(c, status, page, len, "text/html; charset=utf-8", "no-store");
}

MHD_Result serve_page(MHD_Connection* c, Render what, const char* live, const char* asset_id, bool can_curate,
                      const char* notice) {
    char trend[8192];
    extra_json(trend, sizeof trend);
    RenderIn in{what, live, g_stats.fast, g_stats.slow, trend, can_curate, asset_id, notice};
    size_t len = 0;
    char err[256] = "";
    char* body = render(in, &len, err, sizeof err);
    if (body == nullptr) {
        ereport(LOG, (errmsg("photofactory dashboard: rendering failed: %s", err)));
        return send_message(c, 500, "Error", "The page could not be rendered; the server log says why.");
    }
    const char* type = what == Render::Metrics ? "text/plain; version=0.0.4; charset=utf-8"
                       : what == Render::Api   ? "application/json"
                       : what == Render::Css   ? "text/css; charset=utf-8"
                                               : "text/html; charset=utf-8";
    return send_buffer(c, 200, body, len, type, what == Render::Css ? "public, max-age=3600" : "no-store");
}

}  // namespace pf::pg::dashw
