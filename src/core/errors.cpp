#include "core/errors.hpp"

#include <cstring>

namespace pf {

IoError::IoError(const std::string& what, int errno_value)
    : Error(what + ": " + std::strerror(errno_value)), err(errno_value) {}

const char* to_string(RejectReason r) {
    switch (r) {
        case RejectReason::Empty: return "empty";
        case RejectReason::NotMedia: return "not_media";
        case RejectReason::Unreadable: return "unreadable";
        case RejectReason::NotRegularFile: return "not_regular_file";
        case RejectReason::Symlink: return "symlink";
        case RejectReason::Unstable: return "unstable";
        case RejectReason::TooLong: return "name_too_long";
        case RejectReason::TooLarge: return "too_large";
    }
    return "unreadable";
}

RejectError::RejectError(RejectReason r, const std::string& detail)
    : Error(std::string(to_string(r)) + ": " + detail), reason(r), detail(detail) {}

}  // namespace pf
