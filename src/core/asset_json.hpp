// JSON rendering of what the core learned about a file (photofactory.inspect_file).
#pragma once

#include "core/core_guard.hpp"

#include <string>

#include "core/asset_reader.hpp"

namespace pf {

// `destination` is the library-relative folder/name the file would get, before
// collision suffixes (those depend on what is already stored).
std::string asset_facts_json(const AssetFacts& facts, const std::string& destination);

}  // namespace pf
