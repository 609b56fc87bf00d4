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
//
// This file: the settings, the state the parts share (dashboard_internal.hpp
// names the other files), libmicrohttpd's daemon and the event loop.
#include "pg/dashboard_worker.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/dashboard_auth.hpp"
#include "core/dashboard_route.hpp"
#include "pg/boundary.hpp"
#include "pg/catalog_version.hpp"
#include "pg/dashboard_internal.hpp"
#include "pg/gucs.hpp"
#include "pg/pg_headers.hpp"
#include "pg/service_worker.hpp"
#include "pg/worker.hpp"

namespace pf::pg {

int g_dashboard_workers = 0;

namespace dashw {

char* guc_auth = nullptr;          // photofactory.dashboard_auth
Stats g_stats;
MHD_Daemon* g_daemon = nullptr;
char g_bound[256] = "";
char g_problem[512] = "";
dash::CsrfKey* g_csrf = nullptr;
int64 g_requests = 0;
bool g_has_places = false, g_has_thumbs = false;
bool g_catalog_ok = false;
char g_wait_reason[256] = "waiting for CREATE EXTENSION photofactory";
instr_time g_request_start;

}  // namespace dashw

namespace {

using namespace dashw;

char* guc_listen = nullptr;        // photofactory.dashboard_listen
int guc_max_connections = 200;     // photofactory.dashboard_max_connections
int guc_statement_timeout_ms = 2000;  // photofactory.dashboard_statement_timeout

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
