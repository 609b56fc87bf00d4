// The thumbnailer service (issue #15): renders the renditions of every
// ingested asset (docs/operations.md, "Thumbnails").
#pragma once

namespace pf::pg {

void thumbnailer_main();

}  // namespace pf::pg
