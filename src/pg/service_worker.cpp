// The claim-work-mark loop of every service (service_worker.hpp says what it
// guarantees). C-style throughout: PostgreSQL errors longjmp through here.
#include "pg/service_worker.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>

#include "pg/catalog_version.hpp"
#include "pg/gucs.hpp"
#include "pg/worker_registration.hpp"

namespace pf::pg {
namespace {

constexpr long kMissingExtensionPollMs = 5000;
constexpr long kFirstBackoffMs = 1000;
constexpr long kMaxBackoffMs = 60000;
constexpr size_t kUnitErrLen = 256;

const ServiceDef* g_def = nullptr;

// Per-batch scratch, sized once for def->batch_size (TopMemoryContext).
pg_uuid_t* g_ids = nullptr;
bool* g_ok = nullptr;
char* g_errs = nullptr;  // batch_size messages of kUnitErrLen

char* unit_err(int i) { return g_errs + static_cast<size_t>(i) * kUnitErrLen; }

// Counters for the heartbeat.
struct Progress {
    int64 done_total;        // units completed since the worker started
    int64 failed_total;      // units recorded as failed
    int64 done_since_beat;
    TimestampTz last_beat;
    TimestampTz next_beat;
    char last_error[256];
};
Progress g_progress;

struct BatchState {
    int limit;
    bool careful;            // one subtransaction per unit (after a batch raised)
    int claimed;             // ids in g_ids (known even if the batch then fails)
    int failed;
    bool no_extension;
    bool waiting;            // prepare() said: no work now
    ServiceStatus st;
};

void record_unit_error(const pg_uuid_t* id, const char* message) {
    char msg[kUnitErrLen + 64];
    snprintf(msg, sizeof msg, "%s: %s", g_def->name, message[0] ? message : "failed");
    Oid types[2] = {UUIDOID, TEXTOID};
    Datum values[2] = {UUIDPGetDatum(const_cast<pg_uuid_t*>(id)), CStringGetTextDatum(msg)};
    int rc = SPI_execute_with_args("SELECT photofactory.record_error($1::pg_catalog.uuid, $2::pg_catalog.text)", 2,
                                   types, values, nullptr, false, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "photofactory.record_error failed: %s", SPI_result_code_string(rc));
}

void heartbeat_if_due(const BatchState* b, bool force) {
    TimestampTz now = GetCurrentTimestamp();
    if (!force && now < g_progress.next_beat) return;
    char task[768];
    const char* status = b->st.status[0] ? b->st.status : "OK";
    if (b->waiting) {
        snprintf(task, sizeof task, "%s", b->st.detail);
    } else {
        double secs = static_cast<double>(now - g_progress.last_beat) / 1e6;
        double rate = secs > 0 ? static_cast<double>(g_progress.done_since_beat) / secs : 0;
        char failures[320] = "";
        if (g_progress.failed_total > 0)
            snprintf(failures, sizeof failures, "; %lld failed (last: %s)",
                     static_cast<long long>(g_progress.failed_total), g_progress.last_error);
        snprintf(task, sizeof task, "%s: %lld done since start (%.0f/s)%s; %s",
                 b->claimed > 0 ? "Working" : "Idle, queue empty",
                 static_cast<long long>(g_progress.done_total), rate, failures, b->st.detail);
    }
    send_heartbeat(g_def->name, status, task);
    g_progress.done_since_beat = 0;
    g_progress.last_beat = now;
    g_progress.next_beat =
        TimestampTzPlusMilliseconds(now, static_cast<long>(guc_heartbeat_interval_s) * 1000L);
}

// After a batch raised an ERROR: the same work, one subtransaction per unit,
// so the unit that raises is rolled back alone and the others are kept. If
// no unit succeeds, the failure is the service's (a missing table, a full
// disk), not the units': raise, so that nothing is blamed on them and the
// loop backs off. A lone unit is blamed only once this worker has shown it
// can complete units at all.
bool unit_in_subtransaction(SPITupleTable* claimed, int i) {
    MemoryContext cxt = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    unit_err(i)[0] = '\0';
    BeginInternalSubTransaction(nullptr);
    MemoryContextSwitchTo(cxt);
    PG_TRY();
    {
        g_ok[i] = g_def->process(claimed, static_cast<uint64>(i), unit_err(i), kUnitErrLen);
        if (g_ok[i]) g_def->complete(g_ids, g_ok, i, i + 1);
        ReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(cxt);
        CurrentResourceOwner = owner;
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(cxt);
        ErrorData* edata = CopyErrorData();
        FlushErrorState();
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(cxt);
        CurrentResourceOwner = owner;
        g_ok[i] = false;
        snprintf(unit_err(i), kUnitErrLen, "%s", edata->message);
        FreeErrorData(edata);
    }
    PG_END_TRY();
    return g_ok[i];
}

void process_carefully(SPITupleTable* claimed, int n) {
    int good = 0;
    for (int i = 0; i < n; i++)
        if (unit_in_subtransaction(claimed, i)) good++;
    if (good == 0 && n > 0 && (n > 1 || g_progress.done_total == 0))
        elog(ERROR, "every unit of the batch failed (%s)", unit_err(0));
}

void batch_step(void* arg) {
    auto* b = static_cast<BatchState*>(arg);
    if (!extension_ready()) {
        b->no_extension = true;
        return;
    }
    snprintf(b->st.status, sizeof b->st.status, "OK");
    b->st.detail[0] = '\0';
    if (!g_def->prepare(&b->st)) {
        b->waiting = true;
        heartbeat_if_due(b, false);
        return;
    }

    Oid type = INT4OID;
    Datum limit = Int32GetDatum(b->limit);
    int rc = SPI_execute_with_args(g_def->claim_sql, 1, &type, &limit, nullptr, false, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "claim query failed: %s", SPI_result_code_string(rc));
    SPITupleTable* claimed = SPI_tuptable;
    uint64 n = SPI_processed;
    if (n > static_cast<uint64>(b->limit)) elog(ERROR, "claim query returned %llu rows for a limit of %d",
                                                static_cast<unsigned long long>(n), b->limit);
    if (n > 0 && SPI_gettypeid(claimed->tupdesc, 1) != UUIDOID) elog(ERROR, "claim query: column 1 is not a uuid");
    for (uint64 i = 0; i < n; i++) {
        bool isnull;
        Datum d = SPI_getbinval(claimed->vals[i], claimed->tupdesc, 1, &isnull);
        if (isnull) elog(ERROR, "claim query returned a NULL id");
        memcpy(&g_ids[i], DatumGetUUIDP(d), sizeof(pg_uuid_t));
    }
    b->claimed = static_cast<int>(n);

    if (b->careful) {
        process_carefully(claimed, b->claimed);
    } else {
        for (int i = 0; i < b->claimed; i++) {
            unit_err(i)[0] = '\0';
            g_ok[i] = g_def->process(claimed, static_cast<uint64>(i), unit_err(i), kUnitErrLen);
        }
        if (b->claimed > 0) g_def->complete(g_ids, g_ok, 0, b->claimed);
    }
    for (int i = 0; i < b->claimed; i++) {
        if (g_ok[i]) continue;
        record_unit_error(&g_ids[i], unit_err(i));
        g_def->retire(&g_ids[i]);
        snprintf(g_progress.last_error, sizeof g_progress.last_error, "%s", unit_err(i));
        b->failed++;
    }
    // Counted before the commit: if it fails, the heartbeat in this transaction
    // is rolled back with the counts it showed.
    g_progress.done_total += b->claimed - b->failed;
    g_progress.done_since_beat += b->claimed - b->failed;
    g_progress.failed_total += b->failed;
    heartbeat_if_due(b, false);
}

struct FailureBeat {
    const char* message;
};

void failure_beat_step(void* arg) {
    auto* f = static_cast<FailureBeat*>(arg);
    if (!extension_ready()) return;
    char task[512];
    snprintf(task, sizeof task, "Failing, retrying with back-off: %s", f->message);
    send_heartbeat(g_def->name, "ERROR", task);
}

struct TickBeat {
    const ServiceStatus* st;
    bool no_extension;
};

void tick_beat_step(void* arg) {
    auto* t = static_cast<TickBeat*>(arg);
    if (!extension_ready()) {
        t->no_extension = true;
        return;
    }
    send_heartbeat(g_def->name, t->st->status[0] ? t->st->status : "OK", t->st->detail);
}

// One LOG line, then a quiet poll: "waiting for CREATE EXTENSION ..." or
// "waiting for ALTER EXTENSION photofactory UPDATE (catalog 0.1.0, ...)".
void announce_catalog_wait(bool* announced) {
    if (!*announced)
        ereport(LOG, (errmsg("photofactory %s: %s in database \"%s\"", g_worker.label, catalog_wait_reason(),
                             g_worker.database)));
    *announced = true;
    pgstat_report_activity(STATE_IDLE, catalog_wait_reason());
    worker_sleep(kMissingExtensionPollMs);
}

// The periodic shape: tick outside a transaction, heartbeat in a short one.
[[noreturn]] void periodic_loop(const ServiceDef* def) {
    bool announced_wait = false;
    while (!worker_should_exit()) {
        if (worker_reload_if_pending() && def->on_reload) def->on_reload();
        ServiceStatus st;
        memset(&st, 0, sizeof st);
        TimestampTz started = GetCurrentTimestamp();
        if (def->tick(&st)) {
            TickBeat t{&st, false};
            (void)run_in_transaction("heartbeat", tick_beat_step, &t);
            if (t.no_extension) {
                announce_catalog_wait(&announced_wait);
                continue;
            }
            announced_wait = false;
        }
        long interval_ms = static_cast<long>(def->interval_s ? *def->interval_s : 60) * 1000L;
        long spent_ms = static_cast<long>((GetCurrentTimestamp() - started) / 1000);
        pgstat_report_activity(STATE_IDLE, "waiting for the next check");
        worker_sleep(std::max(100L, interval_ms - spent_ms));
    }
    proc_exit(0);
}

void round_beat_step(void* arg) {
    const ServiceRound* r = static_cast<const ServiceRound*>(arg);
    send_heartbeat(g_def->name, r->status[0] ? r->status : "OK", r->task);
}

// The rounds shape: the service's round outside any transaction, then the
// heartbeat when due or when a change is worth telling at once.
[[noreturn]] void round_loop(const ServiceDef* def) {
    bool announced_wait = false;
    TimestampTz last_beat = 0;
    static char last_task[sizeof(ServiceRound::task)];
    last_task[0] = '\0';
    while (!worker_should_exit()) {
        if (worker_reload_if_pending() && def->on_reload) def->on_reload();
        ServiceRound r;
        memset(&r, 0, sizeof r);
        def->round(&r);
        if (r.no_extension) {
            announce_catalog_wait(&announced_wait);
            continue;
        }
        announced_wait = false;
        long beat_ms = static_cast<long>(guc_heartbeat_interval_s) * 1000L;
        bool due = GetCurrentTimestamp() >= TimestampTzPlusMilliseconds(last_beat, beat_ms);
        bool changed = strcmp(r.task, last_task) != 0;
        if (!r.silent && (due || (r.report_change && changed))) {
            if (run_in_transaction("heartbeat", round_beat_step, &r)) {
                last_beat = GetCurrentTimestamp();
                snprintf(last_task, sizeof last_task, "%s", r.task);
            }
        }
        if (r.sleep_ms > 0) {
            pgstat_report_activity(STATE_IDLE, r.activity);
            worker_sleep(r.sleep_ms);
        } else {
            CHECK_FOR_INTERRUPTS();
        }
    }
    proc_exit(0);
}

}  // namespace

[[noreturn]] void service_worker_main(const ServiceDef* def, Datum main_arg) {
    g_def = def;
    char label[64];
    if (def->workers == nullptr)
        snprintf(label, sizeof label, "%s", def->name);
    else
        snprintf(label, sizeof label, "%s %d", def->name, decode_worker_arg(main_arg).index + 1);
    worker_start(main_arg, label);
    // A query cancel has no meaning between batches and must not abort one.
    pqsignal(SIGINT, SIG_IGN);
    // Workers run as the bootstrap superuser: nothing the database's users can
    // create may be found by name (the SQL of hooks schema-qualifies too).
    SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
    if (def->main != nullptr) {
        def->main();
        proc_exit(1);  // main never returns; if it does, be restarted
    }
    if (def->tick != nullptr) periodic_loop(def);
    if (def->round != nullptr) round_loop(def);

    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    g_ids = static_cast<pg_uuid_t*>(palloc0(sizeof(pg_uuid_t) * def->batch_size));
    g_ok = static_cast<bool*>(palloc0(sizeof(bool) * def->batch_size));
    g_errs = static_cast<char*>(palloc0(kUnitErrLen * def->batch_size));
    MemoryContextSwitchTo(old);
    memset(&g_progress, 0, sizeof g_progress);
    g_progress.last_beat = GetCurrentTimestamp();

    long backoff = 0;
    bool careful = false;  // the previous batch raised: isolate the unit that did
    bool announced_wait = false;
    char activity[96], careful_activity[96], err[512];
    snprintf(activity, sizeof activity, "%s: claim, process, mark", def->name);
    snprintf(careful_activity, sizeof careful_activity, "%s: claim, process, mark (unit by unit)", def->name);

    while (!worker_should_exit()) {
        if (worker_reload_if_pending()) {
            g_progress.next_beat = 0;  // settings may change what the heartbeat says
            if (def->on_reload) def->on_reload();
        }

        BatchState b;
        memset(&b, 0, sizeof b);
        b.limit = def->batch_size;
        b.careful = careful;
        err[0] = '\0';
        bool ok = run_in_transaction(careful ? careful_activity : activity, batch_step, &b, err, sizeof err);

        if (!ok) {
            if (!careful && b.claimed > 0) {
                careful = true;  // same units again, one subtransaction each
                continue;
            }
            // The service itself is failing: back off, say so, try again later.
            careful = false;
            backoff = backoff == 0 ? kFirstBackoffMs : std::min(backoff * 2, kMaxBackoffMs);
            FailureBeat f{err};
            (void)run_in_transaction("reporting a failure", failure_beat_step, &f);
            g_progress.next_beat = 0;
            pgstat_report_activity(STATE_IDLE, "backing off after a failure");
            worker_sleep(backoff);
            continue;
        }
        backoff = 0;
        careful = false;

        if (b.no_extension) {
            announce_catalog_wait(&announced_wait);
            continue;
        }
        announced_wait = false;
        if (b.waiting || b.claimed == 0) {
            pgstat_report_activity(STATE_IDLE, b.waiting ? "waiting: nothing can be done yet" : "waiting for work");
            worker_sleep(def->idle_ms);
            continue;
        }
        CHECK_FOR_INTERRUPTS();
    }
    proc_exit(0);
}

}  // namespace pf::pg
