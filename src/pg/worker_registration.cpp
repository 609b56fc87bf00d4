#include "pg/worker_registration.hpp"

#include <cstdio>
#include <cstring>

namespace pf::pg {
namespace {
constexpr int kIndexRange = 1000;  // index < 1000: kind * 1000 + index
}

Datum encode_worker_arg(WorkerKind kind, int index) {
    return Int32GetDatum(static_cast<int>(kind) * kIndexRange + index);
}

WorkerArg decode_worker_arg(Datum main_arg) {
    int code = DatumGetInt32(main_arg);
    return WorkerArg{static_cast<WorkerKind>(code / kIndexRange), code % kIndexRange};
}

void encode_worker_extra(BackgroundWorker* w, const char* database, uint32 generation) {
    static_assert(sizeof(WorkerArgs) <= BGW_EXTRALEN, "worker args must fit in bgw_extra");
    WorkerArgs args;
    memset(&args, 0, sizeof args);
    snprintf(args.database, sizeof args.database, "%s", database);
    args.generation = generation;
    memcpy(w->bgw_extra, &args, sizeof args);
}

WorkerArgs decode_worker_extra(const BackgroundWorker* entry) {
    WorkerArgs args;
    memcpy(&args, entry->bgw_extra, sizeof args);
    args.database[NAMEDATALEN - 1] = '\0';
    return args;
}

void fill_background_worker(BackgroundWorker* w, const char* function, const char* name, const char* type,
                            int restart_time) {
    memset(w, 0, sizeof *w);
    w->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    w->bgw_start_time = BgWorkerStart_RecoveryFinished;
    w->bgw_restart_time = restart_time;
    snprintf(w->bgw_library_name, BGW_MAXLEN, "photofactory");
    snprintf(w->bgw_function_name, BGW_MAXLEN, "%s", function);
    snprintf(w->bgw_name, BGW_MAXLEN, "%s", name);
    snprintf(w->bgw_type, BGW_MAXLEN, "%s", type);
}

}  // namespace pf::pg
