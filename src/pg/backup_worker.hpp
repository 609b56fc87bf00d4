#pragma once
namespace pf::pg {
// Main loop of the backup worker (verified copies on every backup target, scrub).
[[noreturn]] void backup_main();
}
