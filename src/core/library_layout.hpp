// Where a file goes in the library, and what it is called when the name is taken.
#pragma once

#include "core/core_guard.hpp"

#include <string>
#include <string_view>

#include "core/datetime.hpp"

namespace pf {

// "2023/2023-12-25": the year folder, then the day folder.
std::string date_folder(const LocalDateTime& t);

// n = 0: the name itself; n >= 1: "IMG_1234~n.HEIC" (before the last
// extension; "README~n" without one). Stays within 255 bytes.
std::string collision_name(std::string_view name, int n);

}  // namespace pf
