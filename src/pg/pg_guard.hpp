// The reverse of pf_core_call (boundary.hpp): calling a PostgreSQL function
// from C++ code -- a core callback such as ReadOptions::utc_offset_for -- so
// that an ERROR it raises becomes a C++-side error code and message, and never
// a longjmp through C++ frames.
//
// pg_guarded_call sets its PG_TRY in its own frame, so a longjmp out of fn
// ends right there: the C++ frames above it are never crossed. It then
// restores what PostgreSQL's error path resets or leaves behind (the memory
// context, the interrupt hold-off counts, the error state), so the caller
// goes on as if fn had returned an error code.
//
// Where it may be called from, and what fn may do:
//  - from any frame, C++ ones included, outside a critical section (an ERROR
//    there is a PANIC; asserted) and not inside a PG_CATCH block that has
//    not yet copied its own error (FlushErrorState here would discard it);
//  - fn must be C-style: a longjmp out of it skips its own frames, so they may
//    hold nothing with a destructor (enforced for lambdas, as for pf_core_call);
//  - fn must take nothing that only a transaction abort gives back (locks,
//    buffer pins, SPI, files opened through fd.c, subtransactions): nothing is
//    rolled back here. Pure lookups -- pg_tzset, pg_localtime, palloc in the
//    current context -- qualify; SPI and catalog access do not (use
//    run_in_transaction, or a subtransaction as service_worker.cpp does);
//  - in a backend, a query cancel or statement timeout caught here is not
//    swallowed: it is made pending again, so the core's cancellation check
//    (core_should_stop) and the next CHECK_FOR_INTERRUPTS still see it. In a
//    worker (SIGINT ignored) a cancel is the core stopping for SIGTERM, which
//    the worker's loop sees anyway: it only comes back as the error code. A
//    termination (FATAL) exits the process as always.
#pragma once

#include "pg/boundary.hpp"
#include "pg/pg_headers.hpp"

namespace pf::pg {

struct PgError {
    int sqlstate = 0;  // 0: no error
    char message[1024] = {0};
};

// Runs fn(arg); false, with *err filled, if it raised an ERROR.
bool pg_guarded_call(void (*fn)(void*), void* arg, PgError* err) noexcept;

// The same for a closure (capturing only pointers, references, plain values).
template <typename Fn>
bool pg_guarded(Fn&& fn, PgError* err) noexcept {
    require_trivial_closure<Fn>();
    using F = std::remove_reference_t<Fn>;
    return pg_guarded_call([](void* p) { (*static_cast<F*>(p))(); }, const_cast<void*>(static_cast<const void*>(&fn)),
                           err);
}

}  // namespace pf::pg
