#pragma once
namespace pf::pg {
// Main loop of the factory-db worker (database and storage-volume health).
[[noreturn]] void factory_db_main();
}
