// The worker template: what every service (geocoder, thumbnailer, backup,
// the Syncthing check, the dashboard) shares, so that a service is its own logic plus a
// page of glue — a ServiceDef and its hooks.
//
// What the template does (docs/architecture.md, "Services"):
//  - registration: the supervisor starts photofactory.<name>_workers workers of
//    every service listed in service_registry() (0 = off) and restarts them;
//  - signals: SIGTERM finishes the batch in hand and exits, SIGHUP reloads the
//    configuration between batches, SIGINT is ignored (nothing to cancel);
//  - search_path pinned to pg_catalog, pg_temp right after connecting;
//  - waits quietly until CREATE EXTENSION photofactory exists;
//  - heartbeats as the service's name every photofactory.heartbeat_interval;
//  - the claim-work-mark loop: one short transaction per batch claims up to
//    batch_size units with the service's SQL (FOR UPDATE SKIP LOCKED, so
//    parallel workers never share a unit), runs process() per unit, then
//    complete() writes the results and marks the units;
//  - error containment: a unit whose process() reports a failure gets
//    photofactory.record_error and is retired (so it never blocks the queue);
//    a batch that raises an ERROR is rolled back and run again with one
//    subtransaction per unit, so the unit that raises is rolled back alone,
//    recorded and retired while the others succeed. When no unit of such a
//    batch succeeds, the fault is the service's, not the units': nothing is
//    blamed on them and the loop backs off. The service never stops;
//  - back-off: idle_ms when the queue is empty or prepare() says wait, an
//    exponential 1 s .. 60 s after a failing transaction;
//  - every wait is a latch wait with WL_EXIT_ON_PM_DEATH.
//
// Hooks are C-style functions (PostgreSQL errors may longjmp through them): no
// C++ object with a destructor may be live in their frames; C++ work goes
// through pf_core_call (boundary.hpp). All hooks but on_reload run inside the
// batch transaction with SPI connected.
#pragma once

#include "pg/pg_headers.hpp"
#include "pg/worker.hpp"

extern "C" {
#include "utils/uuid.h"
}

namespace pf::pg {

// What a service tells the template (and the dashboard) about itself.
struct ServiceStatus {
    char status[16];   // heartbeat status: OK, WARNING or ERROR
    char detail[512];  // appended to the heartbeat's task text (periodic: the whole task)
};

// What one round of a service of the rounds shape (below) tells the template.
struct ServiceRound {
    char status[16];       // heartbeat status: OK, WARNING or ERROR
    char task[1024];       // heartbeat task
    bool no_extension;     // the catalog is not ready: the template waits quietly
    bool silent;           // no heartbeat this round (e.g. the service was never configured)
    bool report_change;    // heartbeat at once if the task changed, not only when one is due
    long sleep_ms;         // before the next round; 0: at once
    const char* activity;  // pg_stat_activity while sleeping
};

struct ServiceDef {
    const char* name;       // service name: heartbeat, bgw_type "photofactory <name>", logs
    WorkerKind kind;        // the number in the worker argument
    int* workers;           // its photofactory.<name>_workers GUC (0 = off); null: always
                            // exactly one worker, named "photofactory <name>" (no number)
    int max_workers;        // upper bound of that GUC
    // Claim query: $1 (int4) is the batch size; it returns the claimed units,
    // column 1 their media_assets id (uuid), locked FOR UPDATE SKIP LOCKED.
    const char* claim_sql;
    int batch_size;
    long idle_ms;           // sleep when there is nothing to do

    // Before each claim. false: do no work now and sleep idle_ms; st says why.
    bool (*prepare)(ServiceStatus* st);
    // One unit: row `row` of the claim's result. false: the unit failed with a
    // message in err (recorded with record_error); raising an ERROR isolates it.
    bool (*process)(SPITupleTable* claimed, uint64 row, char* err, size_t errlen);
    // After the units [from, to): persist the results of those with ok[i] and
    // mark them. Called once per batch, or once per unit when isolating one
    // that raised.
    void (*complete)(const pg_uuid_t* ids, const bool* ok, int from, int to);
    // A failed unit, after record_error: take it out of the queue (e.g. mark
    // it done with no result).
    void (*retire)(const pg_uuid_t* id);
    // After a SIGHUP was applied (outside any transaction). May be null.
    void (*on_reload)();

    // Two other shapes of service share the template's start (registration,
    // signals, search_path) and leave the claim fields null:
    //  - periodic (the Syncthing check): tick() runs every *interval_s seconds
    //    OUTSIDE any transaction (it may wait on the network), fills st, and
    //    the template heartbeats st.status with st.detail as the task. false:
    //    nothing to report (e.g. turned off by a reload).
    bool (*tick)(ServiceStatus* st);
    const int* interval_s;
    //  - rounds (backup): round() runs OUTSIDE any transaction and opens the
    //    short transactions it needs itself (run_in_transaction), so that a
    //    step that fails (a full target) is contained by the service, not
    //    blamed on a unit. The template applies SIGHUP (on_reload), waits
    //    while the catalog is not ready, heartbeats r.status and r.task when one is due (or
    //    at once if r.report_change and the task changed), then sleeps
    //    r.sleep_ms.
    void (*round)(ServiceRound* r);
    //  - an event loop of its own (the dashboard): main() runs after the
    //    common start and never returns (it ends with proc_exit).
    void (*main)();
};

// The services the supervisor starts (service_registry.cpp).
int service_count();
const ServiceDef* service_at(int i);
const ServiceDef* service_by_kind(WorkerKind kind);

// Entry of a service worker (from pf_worker_main). Never returns.
[[noreturn]] void service_worker_main(const ServiceDef* def, Datum main_arg);

}  // namespace pf::pg
