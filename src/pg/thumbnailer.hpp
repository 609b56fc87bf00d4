// The thumbnailer service (issue #15): renders the renditions of every
// ingested asset (docs/operations.md, "Thumbnails"). Runs on the worker
// template (service_worker.hpp).
#pragma once

#include "pg/service_worker.hpp"

namespace pf::pg {

extern const ServiceDef kThumbnailerService;

}  // namespace pf::pg
