// The supervisor: one static background worker, connected to no database.
//
// Why not register the database workers statically? A static worker that
// connects to a database which does not exist yet dies with FATAL and is
// restarted forever; it also cannot follow a SIGHUP change of
// photofactory.database or photofactory.librarian_workers. The supervisor
// reads pg_database (a shared catalog) until the target database exists, then
// starts one factory-db worker and N librarians as dynamic workers, restarts
// them with a delay when they stop, and replaces them when settings change.
#include <cstdio>

#include "pg/gucs.hpp"
#include "pg/pg_headers.hpp"
#include "pg/shared_state.hpp"
#include "pg/service_worker.hpp"
#include "pg/worker.hpp"
#include "pg/worker_registration.hpp"

extern "C" PGDLLEXPORT void pf_supervisor_main(Datum main_arg);

namespace pf::pg {
namespace {

constexpr long kPollMs = 5000;
constexpr long kRestartDelayMs = 5000;

struct ChildSlot {
    BackgroundWorkerHandle* handle;
    TimestampTz not_before;  // restart back-off
    bool warned_no_slot;
};

ChildSlot factory_slot;
ChildSlot librarian_slots[kMaxLibrarians];
// Services of the worker template, by registry position (service_registry.cpp).
constexpr int kMaxServices = 8;
ChildSlot service_slots[kMaxServices][kMaxServiceWorkers];

bool child_alive(ChildSlot* slot) {
    if (slot->handle == nullptr) return false;
    pid_t pid;
    BgwHandleStatus st = GetBackgroundWorkerPid(slot->handle, &pid);
    if (st == BGWH_STARTED || st == BGWH_NOT_YET_STARTED) return true;
    pfree(slot->handle);
    slot->handle = nullptr;
    slot->not_before = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), kRestartDelayMs);
    return false;
}

void stop_child(ChildSlot* slot) {
    if (slot->handle == nullptr) return;
    TerminateBackgroundWorker(slot->handle);
    pfree(slot->handle);
    slot->handle = nullptr;
}

void ensure_child(ChildSlot* slot, WorkerKind kind, int index, const char* database, uint32 generation) {
    if (child_alive(slot)) return;
    if (GetCurrentTimestamp() < slot->not_before) return;

    char name[BGW_MAXLEN], type[BGW_MAXLEN];
    if (kind == WorkerKind::FactoryDb) {
        snprintf(name, sizeof name, "photofactory factory-db");
        snprintf(type, sizeof type, "photofactory factory-db");
    } else if (const ServiceDef* s = service_by_kind(kind)) {
        if (s->workers == nullptr)
            snprintf(name, sizeof name, "photofactory %s", s->name);
        else
            snprintf(name, sizeof name, "photofactory %s %d", s->name, index + 1);
        snprintf(type, sizeof type, "photofactory %s", s->name);
    } else {
        snprintf(name, sizeof name, "photofactory librarian %d", index + 1);
        snprintf(type, sizeof type, "photofactory librarian");
    }
    BackgroundWorker w;
    // BGW_NEVER_RESTART: the supervisor restarts it.
    fill_background_worker(&w, "pf_worker_main", name, type, BGW_NEVER_RESTART);
    w.bgw_main_arg = encode_worker_arg(kind, index);
    encode_worker_extra(&w, database, generation);
    w.bgw_notify_pid = MyProcPid;

    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    bool ok = RegisterDynamicBackgroundWorker(&w, &slot->handle);
    MemoryContextSwitchTo(old);
    if (!ok) {
        slot->handle = nullptr;
        slot->not_before = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), kRestartDelayMs);
        if (!slot->warned_no_slot)
            ereport(WARNING,
                    (errmsg("photofactory: could not start \"%s\": no free background worker slot", w.bgw_name),
                     errhint("Increase max_worker_processes (photofactory needs 3 + photofactory.librarian_workers + "
                             "each photofactory.<service>_workers, e.g. geocoder_workers).")));
        slot->warned_no_slot = true;
        return;
    }
    slot->warned_no_slot = false;
}

void stop_all() {
    stop_child(&factory_slot);
    for (auto& s : librarian_slots) stop_child(&s);
    for (auto& row : service_slots)
        for (auto& s : row) stop_child(&s);
}

// N workers of each service, N its photofactory.<name>_workers (0 = off),
// or exactly one of a service without that setting (backup).
void ensure_services(const char* database, uint32 generation) {
    for (int k = 0; k < service_count() && k < kMaxServices; k++) {
        const ServiceDef* s = service_at(k);
        int want = s->workers == nullptr ? 1 : *s->workers < s->max_workers ? *s->workers : s->max_workers;
        for (int i = 0; i < kMaxServiceWorkers; i++) {
            if (i < want)
                ensure_child(&service_slots[k][i], s->kind, i, database, generation);
            else
                stop_child(&service_slots[k][i]);
        }
    }
}

// A heap scan, not get_database_oid(): without a database selected, an index
// lookup needs the shared relcache init file, which a fresh cluster does not
// have yet and crash recovery deletes ("cannot read pg_class without having
// selected a database"). The autovacuum launcher scans the same way.
bool database_exists(const char* name) {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    (void)GetTransactionSnapshot();
    bool exists = false;
    Relation rel = table_open(DatabaseRelationId, AccessShareLock);
    TableScanDesc scan = table_beginscan_catalog(rel, 0, nullptr);
    HeapTuple tup;
    while (!exists && (tup = heap_getnext(scan, ForwardScanDirection)) != nullptr) {
        auto* db = reinterpret_cast<Form_pg_database>(GETSTRUCT(tup));
        exists = strcmp(NameStr(db->datname), name) == 0 && db->datconnlimit != DATCONNLIMIT_INVALID_DB;
    }
    table_endscan(scan);
    table_close(rel, AccessShareLock);
    CommitTransactionCommand();
    return exists;
}

}  // namespace
}  // namespace pf::pg

using namespace pf::pg;

void pf_supervisor_main(Datum) {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    pqsignal(SIGINT, SIG_IGN);  // see worker_start: nothing to cancel, and FATAL would restart it
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnection(nullptr, nullptr, 0);
    pgstat_report_appname("photofactory supervisor");

    // A new generation retires any workers a previous supervisor left behind.
    uint32 generation = bump_generation(MyProcPid);
    char database[NAMEDATALEN];
    snprintf(database, sizeof database, "%s", guc_database);
    bool waiting_logged = false;

    for (;;) {
        if (worker_reload_if_pending() && strcmp(database, guc_database) != 0) {
            ereport(LOG, (errmsg("photofactory: database changed from \"%s\" to \"%s\"; restarting workers",
                                 database, guc_database)));
            stop_all();
            generation = bump_generation(MyProcPid);
            snprintf(database, sizeof database, "%s", guc_database);
            waiting_logged = false;
        }

        if (!database_exists(database)) {
            if (!waiting_logged)
                ereport(LOG, (errmsg("photofactory: waiting for database \"%s\" to exist", database),
                              errhint("Create it, or set photofactory.database and reload.")));
            waiting_logged = true;
            pgstat_report_activity(STATE_IDLE, "waiting for the database to exist");
        } else {
            waiting_logged = false;
            ensure_child(&factory_slot, WorkerKind::FactoryDb, 0, database, generation);
            for (int i = 0; i < kMaxLibrarians; i++) {
                if (i < guc_librarian_workers)
                    ensure_child(&librarian_slots[i], WorkerKind::Librarian, i, database, generation);
                else
                    stop_child(&librarian_slots[i]);
            }
            ensure_services(database, generation);
            pgstat_report_activity(STATE_IDLE, "supervising");
        }

        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, kPollMs, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
    }
}
