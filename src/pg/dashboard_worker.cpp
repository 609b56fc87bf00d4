// How a request is served, and why it is safe inside a PostgreSQL process:
//  - libmicrohttpd runs without threads of its own (no MHD_USE_*_THREAD): it
//    parses requests and writes responses only inside MHD_run(), called by
//    this loop when its epoll descriptor is readable or its timeout expires.
//    The loop waits on that descriptor, the latch and postmaster death at
//    once, so SIGTERM/SIGHUP are seen promptly and no client can block it
//    (sockets are non-blocking; connections are limited in number, memory
//    and idle time).
//  - The access handler runs in this thread; it calls PostgreSQL only through
//    run_in_transaction(), whose PG_TRY sits in our own frame, so an error
//    never longjmps through libmicrohttpd's frames. C++ (routing, rendering)
//    runs through noexcept wrappers that return malloc'd plain buffers.
//  - Pages run in read-only transactions with statement_timeout; only
//    curation writes, as photofactory_operator, with auth and a CSRF token.
//  - While the database's catalog is missing or older than the library needs
//    (a new .so before ALTER EXTENSION photofactory UPDATE), the worker waits
//    like every other one: no heartbeat, no query of the ledger; the pages say
//    why (503), /metrics says photofactory_catalog_ready 0. A page request
//    looks at the catalog again, so the pages come back the moment the update
//    commits, without a restart.
#include "pg/dashboard_worker.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "core/dashboard_auth.hpp"
#include "core/dashboard_render.hpp"
#include "core/dashboard_route.hpp"
#include "core/open_beneath.hpp"
#include "core/uptime_slots.hpp"
#include "pg/boundary.hpp"
#include "pg/catalog_version.hpp"
#include "pg/dashboard_queries.hpp"
#include "pg/gucs.hpp"
#include "pg/pg_headers.hpp"
#include "pg/service_worker.hpp"
#include "pg/worker.hpp"

namespace pf::pg {

int g_dashboard_workers = 0;

namespace {

char* guc_listen = nullptr;        // photofactory.dashboard_listen
char* guc_auth = nullptr;          // photofactory.dashboard_auth
int guc_max_connections = 200;     // photofactory.dashboard_max_connections
int guc_statement_timeout_ms = 2000;  // photofactory.dashboard_statement_timeout

constexpr size_t kMaxBody = 4096;           // a curation form is ~100 bytes
constexpr size_t kConnectionMemory = 32768;  // bounds request line + headers
constexpr unsigned kIdleTimeoutS = 10;       // slow clients are dropped
constexpr long kFastStatsMs = 30 * 1000;
constexpr long kSlowStatsMs = 5 * 60 * 1000;
constexpr int kTrendSamples = 60;            // one per fast refresh: the last 30 min

void assign_listen(const char* v, void*) { g_dashboard_workers = (v != nullptr && v[0] != '\0') ? 1 : 0; }

bool check_listen(char** v, void**, GucSource) {
    if (*v == nullptr || (*v)[0] == '\0') return true;
    std::string host;
    int port = 0;
    bool ok = false;
    try {
        ok = dash::split_listen(*v, host, port);
    } catch (...) {
        ok = false;
    }
    if (!ok) GUC_check_errdetail("Expected host:port, e.g. 127.0.0.1:8642 or [::1]:8642.");
    return ok;
}

bool check_auth(char** v, void**, GucSource) {
    if (*v == nullptr) return true;
    std::string why;
    bool ok = false;
    try {
        ok = dash::auth_setting_valid(*v, why);
    } catch (...) {
        why = "invalid";
    }
    if (!ok) GUC_check_errdetail("%s", why.c_str());
    return ok;
}

// --- state of the worker (plain C data: PostgreSQL errors may longjmp) ---

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
Stats g_stats;

MHD_Daemon* g_daemon = nullptr;
char g_bound[256] = "";             // the listen setting the daemon serves
char g_problem[512] = "";           // why it is not serving, for the heartbeat
dash::CsrfKey* g_csrf = nullptr;    // process lifetime
int64 g_requests = 0;
bool g_has_places = false, g_has_thumbs = false;
bool g_catalog_ok = false;          // the catalog is what this library needs
char g_wait_reason[256] = "waiting for CREATE EXTENSION photofactory";
instr_time g_request_start;         // for the Server-Timing header

// --- C++ through noexcept wrappers: plain results, malloc'd buffers ---

char* dup_string(const std::string& s, size_t* len) {
    char* p = static_cast<char*>(malloc(s.size() + 1));
    if (p == nullptr) return nullptr;
    memcpy(p, s.data(), s.size() + 1);
    if (len) *len = s.size();
    return p;
}

struct PlainRoute {
    dash::Page page;
    char id[40];
    char kind[16];
};

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

// Merges the JSON objects (later keys win) and renders. nullptr on failure,
// with the reason in err.
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

enum class WaitView { Html, Metrics, Api };

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

// --- queries (C-style; run inside run_in_transaction) ---

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

bool spi_bool(const char* sql) {
    if (SPI_execute(sql, true, 1) != SPI_OK_SELECT || SPI_processed != 1) elog(ERROR, "probe failed");
    bool isnull;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    return !isnull && DatumGetBool(d);
}

void query_step(void* arg) {
    auto* q = static_cast<QueryArgs*>(arg);
    // Read-only from here on: any write by a page query fails.
    if (q->read_only) XactReadOnly = true;
    if (q->probe) {
        q->has_places = spi_bool(dashq::kHasPlaces);
        q->has_thumbs = spi_bool(dashq::kHasThumbnails);
    }
    if (q->as_operator && SPI_execute("SET LOCAL ROLE photofactory_operator", false, 0) != SPI_OK_UTILITY)
        elog(ERROR, "could not take the operator role");
    Oid types[2] = {UUIDOID, TEXTOID};
    Datum values[2] = {0, 0};
    char nulls[2] = {'n', ' '};
    int nargs = 0;
    if (strstr(q->sql, "$1") != nullptr) {
        nargs = 1;
        if (q->uuid_arg != nullptr) {
            values[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(q->uuid_arg));
            nulls[0] = ' ';
        }
    }
    if (strstr(q->sql, "$2") != nullptr) {
        nargs = 2;
        values[1] = CStringGetTextDatum(q->text_arg ? q->text_arg : "");
    }
    int rc = SPI_execute_with_args(q->sql, nargs, types, values, nulls, q->read_only, 2);
    if (rc != SPI_OK_SELECT) elog(ERROR, "dashboard query failed: %s", SPI_result_code_string(rc));
    if (SPI_processed < 1) return;
    char* v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
    if (v == nullptr) return;
    q->result = strdup(v);
    if (q->result == nullptr) elog(ERROR, "out of memory");
}

// Runs one query; true when it ran (result may still be nullptr: no row).
bool run_query(QueryArgs* q, char* err, size_t errlen) {
    q->result = nullptr;
    return run_in_transaction("dashboard query", query_step, q, err, errlen);
}

// --- statistics cache ---

double ms_since(const instr_time& start) {
    instr_time now;
    INSTR_TIME_SET_CURRENT(now);
    INSTR_TIME_SUBTRACT(now, start);
    return INSTR_TIME_GET_MILLISEC(now);
}

// --- the slow refresh, one query per turn of the loop ---
//
// Grouping 7 days of history in one statement held the loop for 316 ms at a
// month of heartbeats (bench/ dashboard phase). The refresh is a job instead:
// kSlowBounds (its now()), kSlowSlots for each 12-hour chunk, whose slots
// core/uptime_slots merges, then kSlowFinal; the loop handles the requests
// that arrived between any two steps.

struct PlainSlot {
    char* name;  // malloc'd
    int64 slot;
    bool good;
    int worst;
    TimestampTz first;
};

struct SlotChunk {
    TimestampTz now;
    int index;
    PlainSlot* rows;  // malloc'd
    uint64 n;
};

struct SlowJob {
    int next;           // -1: idle; 0: bounds; 1..kSlowChunks: chunk next - 1; kSlowChunks + 1: final
    TimestampTz now, day_start;
    double work_ms, step_ms;
};
SlowJob g_slow = {-1, 0, 0, 0, 0};
dash::SlotAggregate* g_slots = nullptr;  // process lifetime

void free_chunk(SlotChunk* c) {
    for (uint64 i = 0; i < c->n; i++) free(c->rows[i].name);
    free(c->rows);
    c->rows = nullptr;
    c->n = 0;
}

void bounds_step(void* arg) {
    auto* j = static_cast<SlowJob*>(arg);
    XactReadOnly = true;
    if (SPI_execute(dashq::kSlowBounds, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "dashboard: reading the clock failed");
    bool isnull;
    j->now = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    j->day_start = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
}

void slots_step(void* arg) {
    auto* c = static_cast<SlotChunk*>(arg);
    XactReadOnly = true;
    Oid types[3] = {TIMESTAMPTZOID, INT4OID, BOOLOID};
    Datum values[3] = {TimestampTzGetDatum(c->now), Int32GetDatum(c->index),
                       BoolGetDatum(c->index == dashq::kSlowChunks - 1)};
    int rc = SPI_execute_with_args(dashq::kSlowSlots, 3, types, values, nullptr, true, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "dashboard slots query failed: %s", SPI_result_code_string(rc));
    c->rows = static_cast<PlainSlot*>(calloc(SPI_processed + 1, sizeof(PlainSlot)));
    if (c->rows == nullptr) elog(ERROR, "out of memory");
    TupleDesc d = SPI_tuptable->tupdesc;
    for (uint64 i = 0; i < SPI_processed; i++) {
        HeapTuple t = SPI_tuptable->vals[i];
        bool isnull;
        char* name = SPI_getvalue(t, d, 1);
        PlainSlot& r = c->rows[c->n];
        r.slot = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
        r.good = DatumGetBool(SPI_getbinval(t, d, 3, &isnull));
        r.worst = DatumGetInt32(SPI_getbinval(t, d, 4, &isnull));
        r.first = DatumGetTimestampTz(SPI_getbinval(t, d, 5, &isnull));
        r.name = strdup(name ? name : "");
        if (r.name == nullptr) elog(ERROR, "out of memory");
        c->n++;
    }
}

bool merge_chunk(const SlotChunk& c) noexcept {
    try {
        for (uint64 i = 0; i < c.n; i++)
            g_slots->add(dash::SlotRow{c.rows[i].name, c.rows[i].slot, c.rows[i].good, c.rows[i].worst,
                                       c.rows[i].first});
        return true;
    } catch (...) {
        return false;
    }
}

bool clear_slots() noexcept {
    try {
        if (g_slots == nullptr) g_slots = new dash::SlotAggregate();
        g_slots->clear();
        return true;
    } catch (...) {
        return false;
    }
}

char* slot_summary(TimestampTz day_start) noexcept {
    try {
        return dup_string(dash::slot_summary_json(*g_slots, day_start, 50), nullptr);
    } catch (...) {
        return nullptr;
    }
}

struct FinalArgs {
    TimestampTz now;
    const char* summary;
    char* result;  // malloc'd
};

void final_step(void* arg) {
    auto* f = static_cast<FinalArgs*>(arg);
    XactReadOnly = true;
    Oid types[2] = {TIMESTAMPTZOID, TEXTOID};
    Datum values[2] = {TimestampTzGetDatum(f->now), CStringGetTextDatum(f->summary)};
    int rc = SPI_execute_with_args(dashq::kSlowFinal, 2, types, values, nullptr, true, 1);
    if (rc != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "dashboard uptime query failed: %s", SPI_result_code_string(rc));
    char* v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
    if (v == nullptr) elog(ERROR, "dashboard uptime query returned NULL");
    f->result = strdup(v);
    if (f->result == nullptr) elog(ERROR, "out of memory");
}

// One step of the slow job; false when it failed (the job is dropped, the
// figures already shown stay).
bool slow_step() {
    char err[256];
    int step = g_slow.next;
    if (step == 0) {
        if (!clear_slots() || !run_in_transaction("dashboard refresh", bounds_step, &g_slow, err, sizeof err))
            return false;
    } else if (step <= dashq::kSlowChunks) {
        SlotChunk c{g_slow.now, step - 1, nullptr, 0};
        bool ok = run_in_transaction("dashboard refresh", slots_step, &c, err, sizeof err) && merge_chunk(c);
        free_chunk(&c);
        if (!ok) return false;
    } else {
        FinalArgs f{g_slow.now, slot_summary(g_slow.day_start), nullptr};
        bool ok = f.summary != nullptr && run_in_transaction("dashboard refresh", final_step, &f, err, sizeof err);
        free(const_cast<char*>(f.summary));
        clear_slots();  // 27,000 slots need not stay in memory for 5 minutes
        if (!ok) return false;
        free(g_stats.slow);
        g_stats.slow = f.result;
        g_slow.next = -1;
        return true;
    }
    g_slow.next++;
    return true;
}

// --- the fast refresh: kFastSteps queries, merged ---

struct FastJob {
    int next;      // -1: idle; else the next of dashq::kFastStats
    char* merged;  // malloc'd JSON object so far
    double work_ms, step_ms;
};
FastJob g_fast = {-1, nullptr, 0, 0};

char* merge_plain(const char* a, const char* b) noexcept {
    try {
        return dup_string(dash::merge_json(a ? a : "{}", b), nullptr);
    } catch (...) {
        return nullptr;
    }
}

bool pending_plain(const char* text, double out[4]) noexcept {
    try {
        dash::pending_counts(text, out);
        return true;
    } catch (...) {
        return false;
    }
}

bool fast_step(char* err, size_t errlen) {
    QueryArgs q{};
    q.sql = dashq::kFastStats[g_fast.next];
    q.read_only = true;
    q.probe = g_fast.next == 0;
    if (!run_query(&q, err, errlen) || q.result == nullptr) {
        free(q.result);
        return false;
    }
    if (q.probe) {
        g_has_places = q.has_places;
        g_has_thumbs = q.has_thumbs;
    }
    char* m = merge_plain(g_fast.merged, q.result);
    free(q.result);
    if (m == nullptr) return false;
    free(g_fast.merged);
    g_fast.merged = m;
    if (++g_fast.next < dashq::kFastSteps) return true;
    free(g_stats.fast);
    g_stats.fast = g_fast.merged;
    g_fast.merged = nullptr;
    g_fast.next = -1;
    // Trend samples: the four pending counts of our own JSON.
    double counts[4];
    if (pending_plain(g_stats.fast, counts)) {
        int slot = g_stats.trend_n % kTrendSamples;
        for (int i = 0; i < 4; i++) g_stats.trend[i][slot] = counts[i];
        g_stats.trend_n++;
    }
    return true;
}

// Does at most one step of refresh work (the fast refresh is a job of
// kFastSteps queries, the slow one of kSlowChunks + 2; the fast one goes
// first): the loop serves requests in between.
// True while a job has steps left, so the loop comes back without waiting.
bool refresh_stats(bool force) {
    if (!g_catalog_ok) return false;
    TimestampTz now = GetCurrentTimestamp();
    char err[256];
    instr_time t0;
    if (force || (g_slow.next < 0 && (g_stats.slow == nullptr ||
                                      TimestampDifferenceExceeds(g_stats.slow_at, now, kSlowStatsMs)))) {
        g_slow = SlowJob{0, 0, 0, 0, 0};  // (re)started: a reload restarts it
        g_stats.slow_at = now;
    }
    if (force || (g_fast.next < 0 && (g_stats.fast == nullptr ||
                                      TimestampDifferenceExceeds(g_stats.fast_at, now, kFastStatsMs)))) {
        free(g_fast.merged);
        g_fast = FastJob{0, nullptr, 0, 0};
        g_stats.fast_at = now;
    }
    if (g_fast.next >= 0) {
        INSTR_TIME_SET_CURRENT(t0);
        bool ok = fast_step(err, sizeof err);
        double ms = ms_since(t0);
        g_fast.work_ms += ms;
        if (ms > g_fast.step_ms) g_fast.step_ms = ms;
        if (!ok) {
            free(g_fast.merged);
            g_fast = FastJob{-1, nullptr, 0, 0};  // tried again at the next period
        } else if (g_fast.next < 0) {
            g_stats.fast_ms = g_fast.work_ms;
            g_stats.fast_step_ms = g_fast.step_ms;
            g_stats.fast_runs++;
        }
        return g_fast.next >= 0 || g_slow.next >= 0;
    }
    if (g_slow.next < 0) return false;
    INSTR_TIME_SET_CURRENT(t0);
    bool ok = slow_step();
    double ms = ms_since(t0);
    g_slow.work_ms += ms;
    if (ms > g_slow.step_ms) g_slow.step_ms = ms;
    if (!ok) {
        g_slow.next = -1;  // tried again at the next period
        clear_slots();
    } else if (g_slow.next < 0) {
        g_stats.slow_ms = g_slow.work_ms;
        g_stats.slow_step_ms = g_slow.step_ms;
        g_stats.slow_runs++;
    }
    return g_slow.next >= 0;
}

// {"trend": {...}, "storage_free": n, "storage_total": n} as JSON text.
void extra_json(char* out, size_t outlen) {
    static const char* names[4] = {"geocoding", "thumbnails", "curation", "backup"};
    size_t pos = 0;
    pos += snprintf(out + pos, outlen - pos, "{\"trend\":{");
    int n = g_stats.trend_n < kTrendSamples ? g_stats.trend_n : kTrendSamples;
    for (int i = 0; i < 4 && pos < outlen; i++) {
        pos += snprintf(out + pos, outlen - pos, "%s\"%s\":[", i ? "," : "", names[i]);
        for (int k = 0; k < n && pos < outlen; k++) {
            int slot = (g_stats.trend_n - n + k) % kTrendSamples;
            pos += snprintf(out + pos, outlen - pos, "%s%.0f", k ? "," : "", g_stats.trend[i][slot]);
        }
        if (pos < outlen) pos += snprintf(out + pos, outlen - pos, "]");
    }
    struct statvfs sv;
    double free_b = 0, total_b = 0;
    if (guc_storage_dir && guc_storage_dir[0] && statvfs(guc_storage_dir, &sv) == 0) {
        free_b = static_cast<double>(sv.f_bavail) * sv.f_frsize;
        total_b = static_cast<double>(sv.f_blocks) * sv.f_frsize;
    }
    if (pos < outlen)
        snprintf(out + pos, outlen - pos,
                 "},\"storage_free\":%.0f,\"storage_total\":%.0f,\"refresh\":{\"fast_ms\":%.3f,\"slow_ms\":%.3f,"
                 "\"fast_step_ms\":%.3f,\"slow_step_ms\":%.3f,\"fast_runs\":%lld,\"slow_runs\":%lld}}",
                 free_b, total_b, g_stats.fast_ms, g_stats.slow_ms, g_stats.fast_step_ms, g_stats.slow_step_ms,
                 static_cast<long long>(g_stats.fast_runs), static_cast<long long>(g_stats.slow_runs));
}

// --- HTTP ---

struct Conn {
    char body[kMaxBody + 1];
    size_t len;
    bool too_big;
};

// Server time of this request so far (from the access handler's entry), for
// the bench and the browser's devtools.
void add_server_timing(MHD_Response* r) {
    char v[64];
    snprintf(v, sizeof v, "app;dur=%.3f", ms_since(g_request_start));
    MHD_add_response_header(r, "Server-Timing", v);
}

MHD_Result send_buffer(MHD_Connection* c, unsigned status, char* buf, size_t len, const char* type,
                       const char* cache, const char* retry_after = nullptr) {
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

// --- the catalog ---

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

bool resolve_listen(const char* listen, sockaddr_storage* ss) {
    std::string host;
    int port = 0;
    try {
        if (!dash::split_listen(listen, host, port)) return false;
    } catch (...) {
        return false;
    }
    memset(ss, 0, sizeof *ss);
    if (host == "localhost") host = "127.0.0.1";
    auto* v4 = reinterpret_cast<sockaddr_in*>(ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(ss);
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<uint16_t>(port));
        return true;
    }
    if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<uint16_t>(port));
        return true;
    }
    return false;
}

void stop_server() {
    if (g_daemon != nullptr) MHD_stop_daemon(g_daemon);
    g_daemon = nullptr;
    g_bound[0] = '\0';
}

// (Re)starts the server for the current settings; g_problem says why not.
void apply_settings() {
    const char* listen = guc_listen ? guc_listen : "";
    if (g_daemon != nullptr && strcmp(listen, g_bound) == 0) return;
    stop_server();
    g_problem[0] = '\0';
    if (listen[0] == '\0') return;
    if (!listen_is_loopback(listen) && (guc_auth == nullptr || guc_auth[0] == '\0')) {
        snprintf(g_problem, sizeof g_problem,
                 "refusing to listen on %s without photofactory.dashboard_auth (only loopback addresses may go "
                 "without a token)", listen);
        ereport(LOG, (errmsg("photofactory dashboard: %s", g_problem),
                      errhint("Set photofactory.dashboard_auth (see docs/dashboard.md) or listen on 127.0.0.1.")));
        return;
    }
    sockaddr_storage ss;
    if (!resolve_listen(listen, &ss)) {
        snprintf(g_problem, sizeof g_problem, "cannot parse photofactory.dashboard_listen \"%s\"", listen);
        ereport(LOG, (errmsg("photofactory dashboard: %s", g_problem)));
        return;
    }
    unsigned flags = MHD_USE_EPOLL | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    g_daemon = MHD_start_daemon(
        flags, 0, nullptr, nullptr, on_request, nullptr, MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&ss),
        MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(guc_max_connections), MHD_OPTION_CONNECTION_TIMEOUT,
        kIdleTimeoutS, MHD_OPTION_CONNECTION_MEMORY_LIMIT, kConnectionMemory, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, nullptr, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    if (g_daemon == nullptr) {
        snprintf(g_problem, sizeof g_problem, "cannot listen on %s: %s", listen, strerror(errno));
        ereport(LOG, (errmsg("photofactory dashboard: %s", g_problem)));
        return;
    }
    snprintf(g_bound, sizeof g_bound, "%s", listen);
    ereport(LOG, (errmsg("photofactory dashboard: serving http://%s/", listen)));
}

struct Beat {
    const char* status;
    char task[640];
    bool missing;  // the catalog is missing or too old: nothing was written
};

void beat_step(void* arg) {
    auto* b = static_cast<Beat*>(arg);
    if (!extension_ready()) {
        b->missing = true;
        return;
    }
    send_heartbeat("dashboard", b->status, b->task);
}

}  // namespace

void define_dashboard_gucs() {
    DefineCustomStringVariable(
        "photofactory.dashboard_listen", "Address the dashboard serves HTTP on (host:port).",
        "Empty turns the dashboard off. Anything but a loopback address requires photofactory.dashboard_auth.",
        &guc_listen, "127.0.0.1:8642", PGC_SIGHUP, GUC_SUPERUSER_ONLY, check_listen, assign_listen, nullptr);
    DefineCustomStringVariable(
        "photofactory.dashboard_auth", "Token (or sha256:<hex> of one) the dashboard asks for.",
        "Required to listen beyond loopback and for curation. Sent as Bearer token or as the Basic auth password.",
        &guc_auth, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL, check_auth, nullptr, nullptr);
    DefineCustomIntVariable(
        "photofactory.dashboard_max_connections", "Most HTTP connections the dashboard holds at once.", nullptr,
        &guc_max_connections, 200, 1, 900, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "photofactory.dashboard_statement_timeout", "Time limit of each dashboard query.", nullptr,
        &guc_statement_timeout_ms, 2000, 100, 60000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr, nullptr);
}

namespace {

[[noreturn]] void dashboard_main() {
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%d", guc_statement_timeout_ms);
    SetConfigOption("statement_timeout", timeout, PGC_SUSET, PGC_S_OVERRIDE);
    pf_core_call("creating the CSRF key", [] { g_csrf = new dash::CsrfKey(); });

    WaitEventSet* set = nullptr;
    int set_fd = -2;
    TimestampTz next_beat = 0;
    char logged_reason[256] = "";
    while (!worker_should_exit()) {
        bool reloaded = false;
        if (worker_reload_if_pending()) {
            snprintf(timeout, sizeof timeout, "%d", guc_statement_timeout_ms);
            SetConfigOption("statement_timeout", timeout, PGC_SUSET, PGC_S_OVERRIDE);
            if (g_daemon != nullptr && strcmp(guc_listen ? guc_listen : "", g_bound) != 0) stop_server();
            reloaded = true;
        }
        apply_settings();

        TimestampTz now = GetCurrentTimestamp();
        bool more = false;  // a refresh has steps left: come back without waiting
        if (now >= next_beat) {
            Beat b{"OK", "", false};
            if (g_daemon != nullptr) {
                more = refresh_stats(reloaded);
                snprintf(b.task, sizeof b.task, "Dashboard: serving http://%s/ (%lld requests so far)", g_bound,
                         static_cast<long long>(g_requests));
            } else {
                b.status = g_problem[0] ? "ERROR" : "WARNING";
                snprintf(b.task, sizeof b.task, "Dashboard: %s", g_problem[0] ? g_problem : "not serving");
            }
            if (run_in_transaction("dashboard heartbeat", beat_step, &b)) {
                note_catalog(!b.missing);
                // One line per reason, as every worker logs its wait.
                if (b.missing && strcmp(logged_reason, g_wait_reason) != 0)
                    ereport(LOG, (errmsg("photofactory dashboard: %s in database \"%s\"", g_wait_reason,
                                         g_worker.database)));
                snprintf(logged_reason, sizeof logged_reason, "%s", b.missing ? g_wait_reason : "");
            }
            next_beat = TimestampTzPlusMilliseconds(now, static_cast<long>(guc_heartbeat_interval_s) * 1000L);
        } else if (g_daemon != nullptr) {
            // A reload refreshes the figures at once (and lets bench/ time a refresh).
            more = refresh_stats(reloaded);
        }

        // Rebuild the wait set when the daemon (and so its epoll fd) changed.
        int fd = -1;
        if (g_daemon != nullptr) {
            const MHD_DaemonInfo* info = MHD_get_daemon_info(g_daemon, MHD_DAEMON_INFO_EPOLL_FD);
            fd = info ? info->epoll_fd : -1;
        }
        if (set == nullptr || fd != set_fd) {
            if (set != nullptr) FreeWaitEventSet(set);
            set = CreateWaitEventSet(TopMemoryContext, 3);
            AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, nullptr);
            AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, nullptr, nullptr);
            if (fd >= 0) AddWaitEventToSet(set, WL_SOCKET_READABLE, fd, nullptr, nullptr);
            set_fd = fd;
        }
        long wait_ms = static_cast<long>((next_beat - GetCurrentTimestamp()) / 1000);
        if (g_daemon != nullptr) {
            MHD_UNSIGNED_LONG_LONG mhd_ms;
            if (MHD_get_timeout(g_daemon, &mhd_ms) == MHD_YES && static_cast<long>(mhd_ms) < wait_ms)
                wait_ms = static_cast<long>(mhd_ms);
        }
        if (wait_ms < 0 || more) wait_ms = 0;
        WaitEvent ev[3];
        // While waiting, pg_stat_activity says why, in every worker's words.
        pgstat_report_activity(STATE_IDLE, g_catalog_ok ? nullptr : g_wait_reason);
        int n = WaitEventSetWait(set, wait_ms, ev, 3, PG_WAIT_EXTENSION);
        for (int i = 0; i < n; i++)
            if (ev[i].events & WL_LATCH_SET) ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
        if (g_daemon != nullptr) MHD_run(g_daemon);
    }
    stop_server();
    proc_exit(1);
}

}  // namespace

const ServiceDef kDashboardService = [] {
    ServiceDef d{};
    d.name = "dashboard";
    d.kind = WorkerKind::Dashboard;
    d.workers = &g_dashboard_workers;
    d.max_workers = 1;
    d.main = dashboard_main;
    return d;
}();

}  // namespace pf::pg
