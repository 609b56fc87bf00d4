// The Syncthing check: a periodic service (worker template) that asks the
// local Syncthing's REST API how the folders feeding the inbox are doing and
// heartbeats the answer as service `syncthing`.
#pragma once

#include "pg/service_worker.hpp"

namespace pf::pg {

extern const ServiceDef kSyncthingService;

// photofactory.syncthing_* settings; called from define_gucs().
void define_syncthing_gucs();

}  // namespace pf::pg
