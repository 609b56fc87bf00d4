// Capture dates hidden in file names: phones and messengers that strip EXIF
// (WhatsApp, screenshots, Signal) still name files after the moment.
#pragma once

#include "core/core_guard.hpp"

#include <optional>
#include <string_view>

#include "core/datetime.hpp"

namespace pf {

// Recognises (case-insensitively, anywhere in the name):
//   IMG_20231225_123456, VID_20231225_123456, PXL_20231225_123456789 (ms),
//   20231225_123456, IMG-20231225-WA0001 (date only -> 00:00:00),
//   Screenshot_2023-12-25-12-34-56, "Screenshot 2023-12-25 at 12.34.56",
//   "2023-12-25 12.34.56", signal-2023-12-25-123456.
// Returns nullopt when nothing matches or the date is implausible.
std::optional<LocalDateTime> date_from_filename(std::string_view name, int64_t now_epoch = 0);

}  // namespace pf
