// Why a worker of its own, not a step of factory-db: one round is up to seven
// HTTP calls, each bounded by photofactory.syncthing_timeout; a Syncthing that
// accepts connections but never answers would otherwise delay the database
// heartbeat and background verification by that long every interval. Its own
// process costs one background-worker slot, only while syncthing_url is set.
#include "pg/syncthing_check.hpp"

#include <cstdio>
#include <ctime>
#include <exception>
#include <string>

#include "core/syncthing_client.hpp"
#include "core/syncthing_verdict.hpp"
#include "pg/gucs.hpp"

namespace pf::pg {
namespace {

char* guc_url = nullptr;          // photofactory.syncthing_url ('' = off)
char* guc_api_key = nullptr;      // photofactory.syncthing_api_key (superuser only)
char* guc_config = nullptr;       // photofactory.syncthing_config (config.xml holding the key)
int guc_interval_s = 60;          // photofactory.syncthing_interval
int guc_timeout_ms = 5000;        // photofactory.syncthing_timeout
int guc_device_warn_s = 7 * 86400;  // photofactory.syncthing_device_warning
int g_workers = 0;                // 1 while syncthing_url is set: the supervisor's count

void assign_url(const char* newval, void*) { g_workers = (newval != nullptr && newval[0] != '\0') ? 1 : 0; }

bool check_url(char** newval, void**, GucSource) {
    const char* v = *newval;
    if (v == nullptr || v[0] == '\0') return true;
    if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) {
        GUC_check_errdetail("The URL must start with http:// or https://.");
        return false;
    }
    return true;
}

// Plain copies of the settings: the check itself runs C++ code only.
struct Settings {
    char url[1024];
    char api_key[256];
    char config[1024];
    char inbox[1024];
    long timeout_ms;
    long device_warn_s;
};

// Runs one round; never throws, never calls PostgreSQL (C++ objects live here).
void run_round(const Settings& s, ServiceStatus* out) noexcept {
    try {
        syncthing::ClientOptions opt;
        opt.url = s.url;
        opt.inbox_path = s.inbox;
        opt.timeout_ms = s.timeout_ms;
        opt.api_key = s.api_key;
        if (opt.api_key.empty() && s.config[0] != '\0') opt.api_key = syncthing::api_key_from_config(s.config);
        syncthing::VerdictOptions vo;
        vo.now = static_cast<int64_t>(time(nullptr));
        vo.device_warn_after_s = s.device_warn_s;
        vo.url = s.url;
        syncthing::Verdict v = syncthing::judge(syncthing::fetch_snapshot(opt), vo);
        snprintf(out->status, sizeof out->status, "%s", v.status.c_str());
        snprintf(out->detail, sizeof out->detail, "%s", v.task.c_str());
    } catch (const std::exception& e) {
        snprintf(out->status, sizeof out->status, "ERROR");
        snprintf(out->detail, sizeof out->detail, "Syncthing check: %s", e.what());
    } catch (...) {
        snprintf(out->status, sizeof out->status, "ERROR");
        snprintf(out->detail, sizeof out->detail, "Syncthing check failed");
    }
}

bool syncthing_tick(ServiceStatus* st) {
    Settings s;
    memset(&s, 0, sizeof s);
    snprintf(s.url, sizeof s.url, "%s", guc_url ? guc_url : "");
    snprintf(s.api_key, sizeof s.api_key, "%s", guc_api_key ? guc_api_key : "");
    snprintf(s.config, sizeof s.config, "%s", guc_config ? guc_config : "");
    snprintf(s.inbox, sizeof s.inbox, "%s", guc_inbox_dir ? guc_inbox_dir : "");
    s.timeout_ms = guc_timeout_ms;
    s.device_warn_s = guc_device_warn_s;
    if (s.url[0] == '\0') return false;  // turned off by a reload: the supervisor stops us
    if (s.inbox[0] == '\0') {
        snprintf(st->status, sizeof st->status, "WARNING");
        snprintf(st->detail, sizeof st->detail, "Syncthing check: photofactory.inbox_dir is not set");
        return true;
    }
    if (s.api_key[0] == '\0' && s.config[0] == '\0') {
        snprintf(st->status, sizeof st->status, "ERROR");
        snprintf(st->detail, sizeof st->detail,
                 "Syncthing check: no API key: set photofactory.syncthing_api_key or photofactory.syncthing_config");
        return true;
    }
    pgstat_report_activity(STATE_RUNNING, "asking Syncthing");
    run_round(s, st);
    pgstat_report_activity(STATE_IDLE, nullptr);
    return true;
}

}  // namespace

const ServiceDef kSyncthingService = [] {
    ServiceDef d{};
    d.name = "syncthing";
    d.kind = WorkerKind::Syncthing;
    d.workers = &g_workers;
    d.max_workers = 1;
    d.tick = syncthing_tick;
    d.interval_s = &guc_interval_s;
    return d;
}();

void define_syncthing_gucs() {
    DefineCustomStringVariable(
        "photofactory.syncthing_url", "Base URL of the local Syncthing's REST API for the Syncthing check.",
        "Empty turns the check off. The check reports as service \"syncthing\".", &guc_url,
        "http://127.0.0.1:8384", PGC_SIGHUP, GUC_SUPERUSER_ONLY, check_url, assign_url, nullptr);
    DefineCustomStringVariable(
        "photofactory.syncthing_api_key", "API key of the local Syncthing (its GUI settings show it).",
        "Visible to superusers only. Empty: read it from photofactory.syncthing_config.", &guc_api_key, "",
        PGC_SIGHUP, GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL, nullptr, nullptr, nullptr);
    DefineCustomStringVariable(
        "photofactory.syncthing_config", "Path of Syncthing's config.xml to read the API key from.",
        "Used when photofactory.syncthing_api_key is empty; the server's user must be able to read it.",
        &guc_config, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "photofactory.syncthing_interval", "Time between two Syncthing checks.", nullptr, &guc_interval_s, 60, 1,
        86400, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "photofactory.syncthing_timeout", "Time limit of each call to Syncthing's REST API.", nullptr,
        &guc_timeout_ms, 5000, 100, 60000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "photofactory.syncthing_device_warning",
        "A device sharing the inbox that has not connected for longer turns the check to WARNING.", nullptr,
        &guc_device_warn_s, 7 * 86400, 1, INT_MAX, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
}

}  // namespace pf::pg
