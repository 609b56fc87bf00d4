// What the parts of the dashboard worker share (dashboard_worker.cpp: the
// event loop and libmicrohttpd wiring; dashboard_handler: requests and
// routing; dashboard_respond: rendering and sending; dashboard_access: auth
// and CSRF; dashboard_refresh: the cached figures; dashboard_catalog: waiting
// for the catalog; dashboard_run_query: one page query). Split so each file
// holds one concern; the state they share is defined once, in
// dashboard_worker.cpp. Plain C data only: PostgreSQL errors may longjmp.
#pragma once

#include <microhttpd.h>

#include <cstddef>
#include <string>

#include "core/dashboard_auth.hpp"
#include "core/dashboard_route.hpp"
#include "pg/pg_headers.hpp"

namespace pf::pg::dashw {

constexpr size_t kMaxBody = 4096;           // a curation form is ~100 bytes
constexpr size_t kConnectionMemory = 32768;  // bounds request line + headers
constexpr unsigned kIdleTimeoutS = 10;       // slow clients are dropped
constexpr long kFastStatsMs = 30 * 1000;
constexpr long kSlowStatsMs = 5 * 60 * 1000;
constexpr int kTrendSamples = 60;            // one per fast refresh: the last 30 min

// --- state of the worker (defined in dashboard_worker.cpp) ---

struct Stats {
    char* fast;        // malloc'd JSON text or nullptr
    char* slow;
    TimestampTz fast_at, slow_at;
    double fast_ms, slow_ms;       // how long the last refresh of each took, all steps
    double fast_step_ms, slow_step_ms;  // its longest step: the longest a request waited behind it
    int64 fast_runs, slow_runs;
    double trend[4][kTrendSamples];
    int trend_n;
};
extern Stats g_stats;

extern char* guc_auth;                 // photofactory.dashboard_auth
extern MHD_Daemon* g_daemon;
extern char g_bound[256];              // the listen setting the daemon serves
extern char g_problem[512];            // why it is not serving, for the heartbeat
extern dash::CsrfKey* g_csrf;          // process lifetime
extern int64 g_requests;
extern bool g_has_places, g_has_thumbs;
extern bool g_catalog_ok;              // the catalog is what this library needs
extern char g_wait_reason[256];
extern instr_time g_request_start;     // for the Server-Timing header

// --- C++ through noexcept wrappers (dashboard_respond.cpp) ---

struct PlainRoute {
    dash::Page page;
    char id[40];
    char kind[16];
};

enum class Render { Health, Factory, Recent, Asset, Metrics, Api, Css };

struct RenderIn {
    Render what;
    const char* live;       // JSON text (or nullptr)
    const char* fast;
    const char* slow;
    const char* trend;      // JSON object text
    bool can_curate;
    const char* asset_id;
    const char* notice;
};

enum class WaitView { Html, Metrics, Api };

char* dup_string(const std::string& s, size_t* len);
PlainRoute route_of(const char* method, const char* url) noexcept;
// Merges the JSON objects (later keys win) and renders. nullptr on failure,
// with the reason in err.
char* render(const RenderIn& in, size_t* len, char* err, size_t errlen) noexcept;
char* message_page(int status, const char* title, const char* text, size_t* len) noexcept;
char* waiting_view(WaitView v, const char* reason, size_t* len) noexcept;

// --- sending (dashboard_respond.cpp) ---

void add_server_timing(MHD_Response* r);
MHD_Result send_buffer(MHD_Connection* c, unsigned status, char* buf, size_t len, const char* type,
                       const char* cache, const char* retry_after = nullptr);
MHD_Result send_message(MHD_Connection* c, unsigned status, const char* title, const char* text);
MHD_Result serve_page(MHD_Connection* c, Render what, const char* live, const char* asset_id, bool can_curate,
                      const char* notice);

// --- access control (dashboard_access.cpp) ---

bool auth_ok(const char* presented) noexcept;
bool csrf_ok(const char* asset_id, const char* token) noexcept;
bool listen_is_loopback(const char* l) noexcept;
MHD_Result ask_for_auth(MHD_Connection* c);
bool presented_auth(MHD_Connection* c);
bool same_origin(MHD_Connection* c);
bool form_csrf(const char* body, char* out, size_t outlen);

// --- one page query (dashboard_run_query.cpp) ---

struct QueryArgs {
    const char* sql;
    bool read_only;
    bool as_operator;
    const char* uuid_arg;   // $1 (NULL: SQL NULL)
    const char* text_arg;   // $2 when set
    char* result;           // malloc'd text of row 1 col 1, nullptr when no row / NULL
    bool has_places, has_thumbs;
    bool probe;             // also refresh has_places / has_thumbs
};

// Runs one query; true when it ran (result may still be nullptr: no row).
bool run_query(QueryArgs* q, char* err, size_t errlen);

// --- the cached figures (dashboard_refresh.cpp) ---

double ms_since(const instr_time& start);
bool refresh_stats(bool force);
void extra_json(char* out, size_t outlen);

// --- the catalog (dashboard_catalog.cpp) ---

void note_catalog(bool ready);
bool catalog_ok_now();
MHD_Result send_waiting(MHD_Connection* c, dash::Page page);

// --- requests (dashboard_handler.cpp): libmicrohttpd's callbacks ---

MHD_Result on_request(void*, MHD_Connection* c, const char* url, const char* method, const char*,
                      const char* upload, size_t* upload_size, void** con_cls);
void on_completed(void*, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode);

}  // namespace pf::pg::dashw
