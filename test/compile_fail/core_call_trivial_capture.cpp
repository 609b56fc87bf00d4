// Must compile: the calls of the *_owning_capture.cpp files with closures
// capturing by reference and a plain pointer -- so the failure there is the
// static_assert's, not the harness's.
#include <string>

#include "pg/pg_guard.hpp"

void trivial_capture(const char* name) {
    std::string copy(name);
    size_t n = 0;
    pf::pg::pf_core_call("compile-fail check", [&copy, name, &n] { n = copy.size() + (name != nullptr); });
    char* s = pf::pg::pf_core_call_cstring("compile-fail check", [&] { return copy; });
    (void)s;
    pf::pg::PgError err;
    const pg_tz* tz = nullptr;
    (void)pf::pg::pg_guarded([&tz, name] { tz = pg_tzset(name); }, &err);
}
