// DROP EXTENSION photofactory deletes the ledger with it (its tables are
// extension members). Refuse while the ledger holds rows, unless a superuser
// sets photofactory.allow_drop_with_ledger for the session: losing the only
// record of a library must be an explicit decision (docs/operations.md,
// "Dropping the extension").
#pragma once

namespace pf::pg {

// Defines photofactory.allow_drop_with_ledger and installs the
// ProcessUtility hook (from _PG_init, before the prefix is reserved).
void install_drop_guard();

}  // namespace pf::pg
