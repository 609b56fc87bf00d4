// Must NOT compile: the closure owns a std::string (a destructor that the
// ereport after pf_core_call would longjmp over). CTest expects the build of
// this file to fail with boundary.hpp's static_assert message.
#include <string>

#include "pg/boundary.hpp"

void owning_capture(const char* name) {
    std::string copy(name);
    pf::pg::pf_core_call("compile-fail check", [copy] { (void)copy.size(); });
}
