#include "pg/worker.hpp"

#include <csignal>
#include <cstdio>

#include "pg/catalog_version.hpp"
#include "pg/pg_guard.hpp"
#include "pg/shared_state.hpp"
#include "pg/worker_registration.hpp"

namespace pf::pg {

WorkerIdentity g_worker;

namespace {

volatile sig_atomic_t got_sigterm = false;

// Not `die`: a librarian must finish the file in hand before it exits, so
// SIGTERM only raises a flag and wakes the latch.
void handle_sigterm(SIGNAL_ARGS) {
    int save_errno = errno;
    got_sigterm = true;
    SetLatch(MyLatch);
    errno = save_errno;
}

}  // namespace

void pin_worker_search_path() {
    // Workers run as the bootstrap superuser, but the connection applied the
    // database's settings (ALTER DATABASE ... SET search_path), which its owner
    // controls: a function planted in a schema on that path, with a better
    // matching signature, would run as superuser. PGC_S_OVERRIDE outranks
    // every database/role setting and survives SIGHUP; a function's own SET
    // search_path (PGC_S_SESSION) still applies inside it.
    SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
}

void worker_start(Datum main_arg, const char* service_label) {
    WorkerArg arg = decode_worker_arg(main_arg);
    g_worker.kind = arg.kind;
    g_worker.index = arg.index;

    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, handle_sigterm);
    // pg_cancel_backend() on a worker would raise ERROR where no handler is
    // set (between transactions), which becomes FATAL and a restart mid-batch.
    // A worker has no user statement to cancel: ignore it, as pg_cron does.
    pqsignal(SIGINT, SIG_IGN);
    BackgroundWorkerUnblockSignals();

    WorkerArgs args = decode_worker_extra(MyBgworkerEntry);
    g_worker.generation = args.generation;
    snprintf(g_worker.label, sizeof g_worker.label, "%s", service_label);
    snprintf(g_worker.database, sizeof g_worker.database, "%s", args.database);

    BackgroundWorkerInitializeConnection(args.database, nullptr, 0);
    pin_worker_search_path();
    pgstat_report_appname(MyBgworkerEntry->bgw_type);
}

bool core_should_stop(void*) {
    return got_sigterm || QueryCancelPending || ProcDiePending;
}

bool worker_should_exit() {
    if (got_sigterm) return true;
    // WL_EXIT_ON_PM_DEATH only fires while waiting; between files a busy
    // librarian must notice too, or a restarted server finds it still there.
    if (!PostmasterIsAlive()) proc_exit(1);
    return g_shared != nullptr && shared_generation() != g_worker.generation;
}

bool worker_reload_if_pending() {
    if (!ConfigReloadPending) return false;
    ConfigReloadPending = false;
    ProcessConfigFile(PGC_SIGHUP);
    return true;
}

void worker_sleep(long timeout_ms) {
    if (got_sigterm) return;
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, timeout_ms,
                    PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
}

bool run_in_transaction(const char* activity, void (*fn)(void*), void* arg, char* errbuf, size_t errlen) {
    MemoryContext caller_cxt = CurrentMemoryContext;
    volatile bool ok = true;

    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    pgstat_report_activity(STATE_RUNNING, activity);
    PG_TRY();
    {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
        PushActiveSnapshot(GetTransactionSnapshot());
        fn(arg);
        SPI_finish();
        PopActiveSnapshot();
        CommitTransactionCommand();
        // The commit leaves TopMemoryContext current: what the caller pallocs
        // next would then live for the whole process.
        MemoryContextSwitchTo(caller_cxt);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller_cxt);
        ErrorData* edata = CopyErrorData();
        FlushErrorState();
        AbortCurrentTransaction();
        ereport(LOG, (errmsg("photofactory %s: %s failed: %s", g_worker.label, activity,
                             edata->message)));
        if (errbuf != nullptr && errlen > 0) snprintf(errbuf, errlen, "%s", edata->message);
        FreeErrorData(edata);
        ok = false;
    }
    PG_END_TRY();
    pgstat_report_stat(false);
    pgstat_report_activity(STATE_IDLE, nullptr);
    return ok;
}

bool run_guarded(const char* activity, void (*fn)(void*), void* arg, char* errbuf, size_t errlen) {
    PgError err;
    if (pg_guarded_call(fn, arg, &err)) return true;
    if (errbuf != nullptr && errlen > 0) snprintf(errbuf, errlen, "%s", err.message);
    ereport(LOG, (errmsg("photofactory %s: %s failed: %s", g_worker.label, activity, err.message)));
    return false;
}

// Also false while the catalog is older than this library (catalog_version.hpp).
bool extension_ready() {
    return catalog_ready_for_worker();
}

void send_heartbeat(const char* service, const char* status, const char* task) {
    Oid types[3] = {TEXTOID, TEXTOID, TEXTOID};
    Datum values[3] = {CStringGetTextDatum(service), CStringGetTextDatum(status),
                       task ? CStringGetTextDatum(task) : (Datum)0};
    char nulls[3] = {' ', ' ', task ? ' ' : 'n'};
    int rc = SPI_execute_with_args("SELECT photofactory.heartbeat($1::pg_catalog.text, $2::pg_catalog.text, $3::pg_catalog.text)", 3, types, values,
                                   nulls, false, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "photofactory.heartbeat failed: %s", SPI_result_code_string(rc));
}

}  // namespace pf::pg
