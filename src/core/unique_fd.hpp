// The one owner of a file descriptor in the code base: closes it when it goes
// out of scope. `fd` stays a public member so call sites read like the plain
// int they replace (openat(dir.fd, ...)).
#pragma once

#include "core/core_guard.hpp"

#include <unistd.h>

namespace pf {

struct UniqueFd {
    int fd = -1;

    UniqueFd() = default;
    explicit UniqueFd(int f) : fd(f) {}
    ~UniqueFd() { reset(); }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    UniqueFd(UniqueFd&& o) noexcept : fd(o.release()) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        if (this != &o) reset(o.release());
        return *this;
    }

    int get() const { return fd; }
    // Gives the descriptor up without closing it.
    int release() {
        int f = fd;
        fd = -1;
        return f;
    }
    void reset(int f = -1) {
        if (fd >= 0) ::close(fd);
        fd = f;
    }
};

}  // namespace pf
