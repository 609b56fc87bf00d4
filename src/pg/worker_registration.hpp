// How a photofactory worker is registered and told who it is: the one filler
// of BackgroundWorker (static supervisor, dynamic children) and the one
// encoder/decoder of bgw_main_arg, so that a new worker kind cannot drift
// from the others in flags, start time or the meaning of its arguments.
#pragma once

#include "pg/pg_headers.hpp"
#include "pg/worker.hpp"

namespace pf::pg {

// bgw_main_arg of a dynamic worker: its kind and its number among workers of
// that kind (0-based).
struct WorkerArg {
    WorkerKind kind;
    int index;
};

Datum encode_worker_arg(WorkerKind kind, int index);
WorkerArg decode_worker_arg(Datum main_arg);

// bgw_extra of a dynamic worker: its database and the supervisor generation
// that started it (WorkerArgs, worker.hpp).
void encode_worker_extra(BackgroundWorker* w, const char* database, uint32 generation);
WorkerArgs decode_worker_extra(const BackgroundWorker* entry);

// Fills *w for a photofactory worker: shared memory and a database
// connection, started once recovery is finished, entry `function` of this
// library. name and type are shown by ps and pg_stat_activity.backend_type.
void fill_background_worker(BackgroundWorker* w, const char* function, const char* name, const char* type,
                            int restart_time);

}  // namespace pf::pg
