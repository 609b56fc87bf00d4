// C-style on purpose: the PG_TRY below is the only setjmp, and no object with
// a destructor lives in this frame.
#include "pg/pg_guard.hpp"

#include <cstdio>

namespace pf::pg {

bool pg_guarded_call(void (*fn)(void*), void* arg, PgError* err) noexcept {
    Assert(CritSectionCount == 0);
    err->sqlstate = 0;
    err->message[0] = '\0';
    MemoryContext cxt = CurrentMemoryContext;
    // errfinish() zeroes both before it longjmps (so that handlers run in a
    // sane state); our caller may be inside a hold-off section.
    const uint32 holdoff = InterruptHoldoffCount;
    const uint32 cancel_holdoff = QueryCancelHoldoffCount;
    volatile bool ok = true;
    PG_TRY();
    {
        fn(arg);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(cxt);
        ErrorData* edata = CopyErrorData();
        FlushErrorState();
        InterruptHoldoffCount = holdoff;
        QueryCancelHoldoffCount = cancel_holdoff;
        err->sqlstate = edata->sqlerrcode;
        snprintf(err->message, sizeof err->message, "%s", edata->message ? edata->message : "(no message)");
        FreeErrorData(edata);
        // In a backend every cancel is a real interrupt (statement_timeout,
        // pg_cancel_backend) that ProcessInterrupts consumed: make it pending
        // again. A worker ignores SIGINT; a cancel there is the core stopping
        // for the worker's SIGTERM, which its loop sees by itself -- pending,
        // it would turn the next CHECK_FOR_INTERRUPTS into a FATAL.
        if (err->sqlstate == ERRCODE_QUERY_CANCELED && !IsBackgroundWorker) {
            QueryCancelPending = true;
            InterruptPending = true;
        }
        ok = false;
    }
    PG_END_TRY();
    return ok;
}

}  // namespace pf::pg
