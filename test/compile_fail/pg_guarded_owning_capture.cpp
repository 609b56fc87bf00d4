// Must NOT compile: a closure for pg_guarded (pg_guard.hpp) that owns a
// std::string -- a longjmp out of PostgreSQL code would skip its destructor.
#include <string>

#include "pg/pg_guard.hpp"

bool owning_capture(const char* name) {
    std::string copy(name);
    pf::pg::PgError err;
    return pf::pg::pg_guarded([copy] { (void)pg_tzset(copy.c_str()); }, &err);
}
