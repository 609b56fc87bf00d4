// Library entry points: _PG_init (GUCs, shared memory, the supervisor) and the
// entry function of every dynamic worker.
#include "pg/drop_guard.hpp"
#include "pg/factory_db_worker.hpp"
#include "pg/gucs.hpp"
#include "pg/librarian.hpp"
#include "pg/pg_headers.hpp"
#include "pg/service_worker.hpp"
#include "pg/shared_state.hpp"
#include "pg/worker.hpp"
#include "pg/worker_registration.hpp"
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
    install_drop_guard();  // its setting first: define_gucs() reserves the prefix
    define_gucs();
    install_shmem_hooks();
    install_core_log_sink();

    BackgroundWorker w;
    fill_background_worker(&w, "pf_supervisor_main", "photofactory supervisor", "photofactory supervisor", 10);
    RegisterBackgroundWorker(&w);
}

void pf_worker_main(Datum main_arg) {
    WorkerArg arg = decode_worker_arg(main_arg);
    if (const ServiceDef* service = service_by_kind(arg.kind)) service_worker_main(service, main_arg);
    if (arg.kind == WorkerKind::FactoryDb) {
        worker_start(main_arg, "factory-db");
        factory_db_main();
    } else {
        char label[32];
        snprintf(label, sizeof label, "librarian %d", arg.index + 1);
        worker_start(main_arg, label);
        librarian_main();
    }
}
