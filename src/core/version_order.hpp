// Ordering of extension version strings ("0.1.0" < "0.2.0" < "0.10.0"), so a
// library can tell whether the catalog a database holds is older than the one
// it needs. Plain C strings in and out: called directly from src/pg, never throws.
#pragma once

#include "core/core_guard.hpp"

namespace pf {

enum class VersionOrder { Older, Same, Newer, Unknown };

// How `have` compares with `need`, component by numeric component (a missing
// component counts as 0: "0.2" == "0.2.0"). Anything after the numbers
// ("0.2.0-beta", "0.1.99-failtest") makes the string Unknown unless the
// numbers alone already decide; a string that does not start with a number is
// Unknown. Numbers, not text: "0.10.0" is newer than "0.9.0".
VersionOrder compare_versions(const char* have, const char* need) noexcept;

}  // namespace pf
