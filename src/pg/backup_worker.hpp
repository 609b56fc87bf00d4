// The backup service: verified copies of every stored file on every enabled
// backup target, and the scrub of those copies (a service of the worker
// template's rounds shape, src/pg/service_worker.hpp).
#pragma once

#include "pg/service_worker.hpp"

namespace pf::pg {

extern const ServiceDef kBackupService;

}  // namespace pf::pg
