// Requests: libmicrohttpd's access handler collects a (small) body, then
// handle() checks auth, routes (core/dashboard_route) and serves each page
// from a page query plus the cached figures; thumbnails are streamed from
// below <storage>/Thumbnails/ only, walked with O_NOFOLLOW.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/dashboard_route.hpp"
#include "core/open_beneath.hpp"
#include "pg/dashboard_internal.hpp"
#include "pg/dashboard_queries.hpp"
#include "pg/gucs.hpp"
#include "pg/pg_headers.hpp"
#include "pg/worker.hpp"

namespace pf::pg::dashw {

namespace {

struct Conn {
    char body[kMaxBody + 1];
    size_t len;
    bool too_big;
};

MHD_Result serve_thumb(MHD_Connection* c, const PlainRoute& r) {
    if (!g_has_thumbs) return send_message(c, 404, "Not found", "Thumbnails are not available.");
    QueryArgs q{};
    q.sql = dashq::kThumbnailPath;
    q.read_only = true;
    q.uuid_arg = r.id;
    q.text_arg = r.kind;
    char err[256] = "";
    if (!run_query(&q, err, sizeof err)) return send_message(c, 503, "Busy", "The database did not answer in time.");
    if (q.result == nullptr) return send_message(c, 404, "Not found", "No such rendition.");
    // Serve only what thumbnail_path() names, below <storage>/Thumbnails/, walked with O_NOFOLLOW.
    char prefix[1100];
    snprintf(prefix, sizeof prefix, "%s/", guc_storage_dir ? guc_storage_dir : "");
    int fd = -1;
    size_t plen = strlen(prefix);
    if (plen > 1 && strncmp(q.result, prefix, plen) == 0 && strncmp(q.result + plen, "Thumbnails/", 11) == 0) {
        int root = open(guc_storage_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root >= 0) {
            try {
                fd = open_regular_beneath(root, std::string(q.result + plen));
            } catch (...) {
                fd = -1;
            }
            close(root);
        }
    }
    free(q.result);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0) close(fd);
        return send_message(c, 404, "Not found", "The rendition is not on disk.");
    }
    MHD_Response* resp = MHD_create_response_from_fd(static_cast<uint64_t>(st.st_size), fd);
    if (resp == nullptr) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            strcmp(r.kind, "thumbnail") == 0 ? "image/webp" : "image/jpeg");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, max-age=86400");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Content-Security-Policy", "default-src 'none'");
    add_server_timing(resp);
    MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

MHD_Result handle(MHD_Connection* c, const char* url, const char* method, Conn* conn) {
    INSTR_TIME_SET_CURRENT(g_request_start);
    g_requests++;
    bool needs_auth = !listen_is_loopback(g_bound);
    bool authed = presented_auth(c);
    if (needs_auth && !authed) return ask_for_auth(c);
    if (conn->too_big) return send_message(c, 413, "Too large", "The request body is too large.");

    PlainRoute r = route_of(method, url);
    char err[256] = "";
    bool needs_db = r.page != dash::Page::NotFound && r.page != dash::Page::MethodNotAllowed &&
                    r.page != dash::Page::Stylesheet;
    if (needs_db && !catalog_ok_now()) return send_waiting(c, r.page);
    switch (r.page) {
        case dash::Page::NotFound: return send_message(c, 404, "Not found", "There is no such page.");
        case dash::Page::MethodNotAllowed:
            return send_message(c, 405, "Method not allowed", "This page does not take that method.");
        case dash::Page::Stylesheet: return serve_page(c, Render::Css, nullptr, nullptr, false, nullptr);
        case dash::Page::Thumb: return serve_thumb(c, r);
        case dash::Page::Factory: return serve_page(c, Render::Factory, nullptr, nullptr, false, nullptr);
        case dash::Page::Health:
        case dash::Page::ApiStatus:
        case dash::Page::Metrics: {
            QueryArgs q{};
            q.sql = dashq::kServices;
            q.read_only = true;
            if (!run_query(&q, err, sizeof err))
                return send_message(c, 503, "Busy", "The database did not answer in time.");
            Render what = r.page == dash::Page::Health ? Render::Health
                          : r.page == dash::Page::Metrics ? Render::Metrics
                                                          : Render::Api;
            MHD_Result ret = serve_page(c, what, q.result, nullptr, false, nullptr);
            free(q.result);
            return ret;
        }
        case dash::Page::Recent: {
            const char* before = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "before");
            PlainRoute b = route_of("GET", before ? (std::string("/asset/") + before).c_str() : "/");
            if (before != nullptr && b.page != dash::Page::Asset)
                return send_message(c, 400, "Bad request", "before= must be an asset id.");
            QueryArgs q{};
            q.sql = g_has_places ? dashq::kRecentWithPlaces : dashq::kRecent;
            q.read_only = true;
            q.uuid_arg = before ? b.id : nullptr;
            if (!run_query(&q, err, sizeof err))
                return send_message(c, 503, "Busy", "The database did not answer in time.");
            MHD_Result ret = serve_page(c, Render::Recent, q.result, nullptr, false, nullptr);
            free(q.result);
            return ret;
        }
        case dash::Page::Asset:
        case dash::Page::Curate: {
            const char* notice = nullptr;
            if (r.page == dash::Page::Curate) {
                char token[80] = "";
                if (!authed || (guc_auth == nullptr || guc_auth[0] == '\0')) return ask_for_auth(c);
                conn->body[conn->len] = '\0';
                if (!same_origin(c) || !form_csrf(conn->body, token, sizeof token) || !csrf_ok(r.id, token))
                    return send_message(c, 403, "Forbidden", "The form has expired or did not come from this page.");
                QueryArgs w{};
                w.sql = dashq::kCurate;
                w.as_operator = true;
                w.uuid_arg = r.id;
                if (!run_query(&w, err, sizeof err)) return send_message(c, 500, "Not saved", err);
                free(w.result);
                notice = "Marked curated.";
            }
            QueryArgs q{};
            q.sql = g_has_places ? dashq::kAssetWithPlaces : dashq::kAsset;
            q.read_only = true;
            q.uuid_arg = r.id;
            if (!run_query(&q, err, sizeof err))
                return send_message(c, 503, "Busy", "The database did not answer in time.");
            if (q.result == nullptr) return send_message(c, 404, "Not found", "There is no such asset.");
            bool can_curate = authed && guc_auth != nullptr && guc_auth[0] != '\0';
            MHD_Result ret = serve_page(c, Render::Asset, q.result, r.id, can_curate, notice);
            free(q.result);
            return ret;
        }
    }
    return send_message(c, 404, "Not found", "There is no such page.");
}

}  // namespace

MHD_Result on_request(void*, MHD_Connection* c, const char* url, const char* method, const char*,
                      const char* upload, size_t* upload_size, void** con_cls) {
    auto* conn = static_cast<Conn*>(*con_cls);
    if (conn == nullptr) {
        conn = static_cast<Conn*>(calloc(1, sizeof(Conn)));
        if (conn == nullptr) return MHD_NO;
        *con_cls = conn;
        return MHD_YES;  // headers only so far
    }
    if (*upload_size > 0) {
        if (conn->len + *upload_size > kMaxBody)
            conn->too_big = true;
        else {
            memcpy(conn->body + conn->len, upload, *upload_size);
            conn->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    return handle(c, url, method, conn);
}

void on_completed(void*, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
    free(*con_cls);
    *con_cls = nullptr;
}

}  // namespace pf::pg::dashw
