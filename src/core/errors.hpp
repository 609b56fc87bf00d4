// Exceptions of the core. The PostgreSQL layer maps each kind to a SQLSTATE
// (src/pg/boundary.cpp); the librarian maps RejectError to a Rejected/ move.
#pragma once

#include "core/core_guard.hpp"

#include <stdexcept>
#include <string>

namespace pf {

struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A system call failed; what() includes strerror(err).
struct IoError : Error {
    int err;
    IoError(const std::string& what, int errno_value);
};

enum class RejectReason { Empty, NotMedia, Unreadable, NotRegularFile, Symlink, Unstable, TooLong, TooLarge };
const char* to_string(RejectReason r);

// The file cannot be ingested as it is. Unstable means "changed while read":
// the caller retries later instead of rejecting.
struct RejectError : Error {
    RejectReason reason;
    std::string detail;  // what() is "<reason>: <detail>"
    RejectError(RejectReason r, const std::string& detail);
};

// The caller asked the core to stop (a statement timeout, a cancel, a worker
// shutting down): not a property of the file, never counted against it.
struct Cancelled : Error {
    Cancelled() : Error("cancelled") {}
};

}  // namespace pf
