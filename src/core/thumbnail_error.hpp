// Why a rendition could not be made. The message names the reason first
// ("corrupt: ..."), because it ends up in media_assets.error_message where an
// operator reads it.
#pragma once

#include "core/core_guard.hpp"

#include <string>

#include "core/errors.hpp"

namespace pf {

enum class ThumbFailure {
    Missing,      // the original is not where the ledger says
    Unsupported,  // not a format we render (or no embedded preview in a RAW)
    Corrupt,      // undecodable or truncated
    TooLarge,     // over the pixel or memory limit: refused before decoding
    Io,           // reading the original or writing a rendition failed
};

const char* to_string(ThumbFailure f);

struct ThumbnailError : Error {
    ThumbFailure failure;
    ThumbnailError(ThumbFailure f, const std::string& detail)
        : Error(std::string(to_string(f)) + ": " + detail), failure(f) {}
};

}  // namespace pf
