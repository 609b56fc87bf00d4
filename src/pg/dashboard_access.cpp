// Who may see and who may write: the token of photofactory.dashboard_auth
// (Bearer or Basic password, compared in core/dashboard_auth), and for the
// one write (curation) a same-origin check plus a CSRF token bound to the
// asset. Apart from the event loop so the rules can be read in one place.
#include <cstdio>
#include <cstring>
#include <string>

#include "core/dashboard_auth.hpp"
#include "pg/dashboard_internal.hpp"

namespace pf::pg::dashw {

bool auth_ok(const char* presented) noexcept {
    try {
        return presented != nullptr && dash::token_matches(guc_auth ? guc_auth : "", presented);
    } catch (...) {
        return false;
    }
}

bool csrf_ok(const char* asset_id, const char* token) noexcept {
    try {
        return g_csrf != nullptr && token != nullptr && g_csrf->check(std::string("curate:") + asset_id, token);
    } catch (...) {
        return false;
    }
}

bool listen_is_loopback(const char* l) noexcept {
    try {
        return dash::is_loopback_listen(l);
    } catch (...) {
        return false;
    }
}

MHD_Result ask_for_auth(MHD_Connection* c) {
    size_t len = 0;
    char* page = message_page(401, "Sign in", "This dashboard needs the token set in photofactory.dashboard_auth.", &len);
    if (page == nullptr) return MHD_NO;
    MHD_Response* r = MHD_create_response_from_buffer(len, page, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    MHD_Result ret = MHD_queue_basic_auth_fail_response(c, "photofactory", r);
    MHD_destroy_response(r);
    return ret;
}

// The token a client presents: Bearer, or the password of Basic auth.
bool presented_auth(MHD_Connection* c) {
    const char* h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (h != nullptr && strncasecmp(h, "Bearer ", 7) == 0) return auth_ok(h + 7);
    char* password = nullptr;
    char* user = MHD_basic_auth_get_username_password(c, &password);
    bool ok = password != nullptr && auth_ok(password);
    if (user) MHD_free(user);
    if (password) MHD_free(password);
    return ok;
}

// Same-origin check for writes: Origin (or Referer) must name our Host.
bool same_origin(MHD_Connection* c) {
    const char* host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (host == nullptr) return false;
    char want[300];
    snprintf(want, sizeof want, "http://%s", host);
    const char* origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (origin != nullptr) return strcmp(origin, want) == 0;
    const char* ref = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_REFERER);
    if (ref == nullptr) return true;  // no-referrer policy: absence is normal
    size_t n = strlen(want);
    return strncmp(ref, want, n) == 0 && ref[n] == '/';
}

// "csrf=<64 hex>" among the form's fields.
bool form_csrf(const char* body, char* out, size_t outlen) {
    const char* p = body;
    while (p && *p) {
        if (strncmp(p, "csrf=", 5) == 0) {
            size_t n = strcspn(p + 5, "&");
            if (n == 0 || n >= outlen) return false;
            memcpy(out, p + 5, n);
            out[n] = '\0';
            return true;
        }
        p = strchr(p, '&');
        if (p) p++;
    }
    return false;
}

}  // namespace pf::pg::dashw
