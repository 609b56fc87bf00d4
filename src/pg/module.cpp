// Library entry points: _PG_init (GUCs, shared memory, the supervisor) and the
// entry function of every dynamic worker.
#include "pg/factory_db_worker.hpp"
#include "pg/gucs.hpp"
#include "pg/librarian.hpp"
#include "pg/pg_headers.hpp"
#include "pg/service_worker.hpp"
#include "pg/shared_state.hpp"
#include "pg/worker.hpp"
#include "pg/core_setup.hpp"

extern "C" {
PG_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);
PGDLLEXPORT void pf_worker_main(Datum main_arg);
}

using namespace pf::pg;

void _PG_init(void) {
    // Workers, shared memory and PGC_SIGHUP settings only exist when the library
    // is loaded by the postmaster; refuse loudly instead of half-working.
    if (!process_shared_preload_libraries_in_progress) {
        ereport(ERROR,
                (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                 errmsg("photofactory must be loaded via shared_preload_libraries"),
                 errhint("Add photofactory to shared_preload_libraries in postgresql.conf "
                         "(e.g. shared_preload_libraries = 'pg_cron,photofactory') and restart the server.")));
    }
    define_gucs();
    install_shmem_hooks();
    install_core_log_sink();

    BackgroundWorker w;
    memset(&w, 0, sizeof w);
    w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    w.bgw_start_time = BgWorkerStart_RecoveryFinished;
    w.bgw_restart_time = 10;
    snprintf(w.bgw_library_name, BGW_MAXLEN, "photofactory");
    snprintf(w.bgw_function_name, BGW_MAXLEN, "pf_supervisor_main");
    snprintf(w.bgw_name, BGW_MAXLEN, "photofactory supervisor");
    snprintf(w.bgw_type, BGW_MAXLEN, "photofactory supervisor");
    RegisterBackgroundWorker(&w);
}

void pf_worker_main(Datum main_arg) {
    int code = DatumGetInt32(main_arg);
    auto kind = static_cast<WorkerKind>(code / 1000);
    if (const ServiceDef* service = service_by_kind(kind)) service_worker_main(service, main_arg);
    if (kind == WorkerKind::FactoryDb) {
        worker_start(main_arg, "factory-db");
        factory_db_main();
    } else {
        char label[32];
        snprintf(label, sizeof label, "librarian %d", code % 1000 + 1);
        worker_start(main_arg, label);
        librarian_main();
    }
}
