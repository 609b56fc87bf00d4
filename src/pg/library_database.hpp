// photofactory keeps one library (inbox + storage) and one ledger, in the
// database named by photofactory.database. The extension may exist in other
// databases too (a copy, a test database): there, nothing may act on the
// library, or a second ledger would record the first one's files.
#pragma once

namespace pf::pg {

// ERROR 55000 unless the current database is photofactory.database. Needs a
// transaction (reads the database name from the catalog).
void require_library_database(const char* what);

// True when the current database is photofactory.database.
bool in_library_database();

}  // namespace pf::pg
