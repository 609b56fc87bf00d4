// Every service the supervisor starts through the worker template. A new
// service adds its ServiceDef here, a WorkerKind, and its
// photofactory.<name>_workers GUC (gucs.cpp).
#include "pg/backup_worker.hpp"
#include "pg/dashboard_worker.hpp"
#include "pg/geocoder.hpp"
#include "pg/syncthing_check.hpp"
#include "pg/service_worker.hpp"
#include "pg/thumbnailer.hpp"

namespace pf::pg {
namespace {

// Started in this order, after factory-db and the librarians.
const ServiceDef* const kServices[] = {&kBackupService, &kGeocoderService, &kThumbnailerService, &kSyncthingService,
                                       &kDashboardService};

}  // namespace

int service_count() { return static_cast<int>(sizeof kServices / sizeof kServices[0]); }

const ServiceDef* service_at(int i) { return i >= 0 && i < service_count() ? kServices[i] : nullptr; }

const ServiceDef* service_by_kind(WorkerKind kind) {
    for (const ServiceDef* s : kServices)
        if (s->kind == kind) return s;
    return nullptr;
}

}  // namespace pf::pg
