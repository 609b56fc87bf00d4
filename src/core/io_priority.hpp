// Background I/O at the disk's idle priority, so that the backup service
// yields the disk to the librarian and the database (issue #14: ingest
// latency unchanged while a backup runs).
//
// ioprio_set(IOPRIO_WHO_PROCESS, 0) sets the calling thread's class; threads
// it starts meanwhile (the copy's writer, the verifier, the read-ahead)
// inherit it. Only I/O that the thread itself issues carries it: reads,
// O_DIRECT writes, fsync's flush -- not buffered writes, which the kernel's
// flusher threads write back later (one more reason the copy writes with
// O_DIRECT, core/direct_writer.hpp). Schedulers that honour the classes
// (mq-deadline since Linux 5.14, bfq) serve idle requests when no other
// request waits, with mq-deadline's aging (prio_aging_expire, 10 s) against
// starvation; mq-deadline ignores the levels inside a class, hence the idle
// class rather than best-effort level 7. With "none" it changes nothing.
#pragma once

#include "core/core_guard.hpp"

namespace pf {

class IdleIoPriority {
public:
    IdleIoPriority();   // never throws: without ioprio_set nothing changes
    ~IdleIoPriority();  // the calling thread's previous priority back
    IdleIoPriority(const IdleIoPriority&) = delete;
    IdleIoPriority& operator=(const IdleIoPriority&) = delete;

    bool applied() const { return saved_ >= 0; }

private:
    int saved_ = -1;
};

// The calling thread's I/O priority class (0 none, 1 realtime, 2 best-effort,
// 3 idle), -1 when unknown.
int io_priority_class();

}  // namespace pf
