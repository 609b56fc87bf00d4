// The photofactory catalog a database holds (pg_extension.extversion) against
// the one this library reads and writes.
//
// A new photofactory.so is loaded at server start, but each database's
// catalog only changes with ALTER EXTENSION photofactory UPDATE. In between,
// the library must not touch tables or columns that do not exist yet: workers
// wait (one WARNING, no writes at all) and resume by themselves once the
// update commits; SQL-callable functions that use the ledger raise a clear
// error instead.
#pragma once

#include "pg/pg_headers.hpp"

namespace pf::pg {

// The catalog version whose objects this library uses. Bump it with every
// upgrade script that the C code depends on.
extern const char* const kCatalogVersionNeeded;

enum class CatalogState { Missing, Older, Unknown, Ready };

// Inside a transaction: the state of this database's catalog; its version
// string is copied to version (empty when Missing).
CatalogState catalog_state(char* version, size_t len);

// For workers, inside a transaction: true when the catalog is usable. Logs the
// transitions of this process (the factory-db worker, one per server, says
// WARNING with the fix when the catalog is too old; every worker logs
// when it resumes).
bool catalog_ready_for_worker();

// What a waiting worker shows in pg_stat_activity and its start-up log line.
const char* catalog_wait_reason();

// For SQL-callable functions that use the ledger: ERROR with a hint unless
// the catalog is Ready. `what` names the function for the message.
void require_catalog_version(const char* what);

}  // namespace pf::pg
