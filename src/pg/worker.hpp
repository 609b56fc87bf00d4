// Scaffolding shared by every photofactory background worker: signals,
// connection, the supervisor's generation check, and running one unit of work
// inside its own transaction so that one failure never takes the worker down.
//
// The functions here are C-style on purpose: PostgreSQL errors (longjmp) can
// happen anywhere inside them, so no C++ object with a destructor may be live
// in these frames. C++ work goes through pf_core_call (boundary.hpp).
#pragma once

#include "pg/pg_headers.hpp"

namespace pf::pg {

// Services started through the worker template (service_worker.hpp) take the
// numbers from 3 on (service_registry.cpp).
enum class WorkerKind : int {
    FactoryDb = 1, Librarian = 2, Geocoder = 3, Thumbnailer = 4, Backup = 5, Syncthing = 6, Dashboard = 7
};

// What a dynamic worker is told by the supervisor that started it.
struct WorkerArgs {
    char database[NAMEDATALEN];
    uint32 generation;
};

struct WorkerIdentity {
    WorkerKind kind;
    int index;          // librarian number, 0-based
    uint32 generation;  // supervisor generation that started this worker
    char label[64];     // e.g. "librarian 1/2", shown in logs
    char database[NAMEDATALEN];  // kept here: a catalog lookup would need a transaction
};

extern WorkerIdentity g_worker;

// Pins search_path to pg_catalog, pg_temp for this session, whatever the
// database or role settings say (called right after connecting).
void pin_worker_search_path();

// Installs signal handlers, connects to the database named in bgw_extra and
// names the process in pg_stat_activity.
void worker_start(Datum main_arg, const char* service_label);

// True once SIGTERM arrived or a newer supervisor took over.
// For the core's long reads (ReadOptions::cancelled): true once a cancel,
// a statement timeout, a termination or a worker's SIGTERM is pending. Only
// reads flags: safe inside C++ frames (never raises, never longjmps).
bool core_should_stop(void* unused);

bool worker_should_exit();

// Applies a pending SIGHUP; returns true if configuration was reloaded.
bool worker_reload_if_pending();

// Sleeps on the latch for up to timeout_ms (woken early by SetLatch/SIGTERM).
void worker_sleep(long timeout_ms);

// Runs fn(arg) in a fresh transaction with SPI connected and a snapshot
// pushed. On error the message is logged, the transaction rolled back and
// false returned: the caller simply tries again later. Either way the
// caller's memory context is current again when it returns.
bool run_in_transaction(const char* activity, void (*fn)(void*), void* arg, char* errbuf = nullptr,
                        size_t errlen = 0);

// Same error containment without a transaction (for filesystem steps that
// call core code through pf_core_call); pg_guarded_call (pg_guard.hpp) says
// what fn may do.
bool run_guarded(const char* activity, void (*fn)(void*), void* arg, char* errbuf, size_t errlen);

// Inside a transaction: is `CREATE EXTENSION photofactory` done in this
// database, at a catalog version this library can use?
bool extension_ready();

// Inside run_in_transaction: photofactory.heartbeat(service, status, task).
void send_heartbeat(const char* service, const char* status, const char* task);

}  // namespace pf::pg
