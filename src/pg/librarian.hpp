#pragma once
namespace pf::pg {
// Main loop of a librarian worker: watch the inbox, ingest settled files.
[[noreturn]] void librarian_main();
}
