// Shared memory of photofactory: which librarians run (so SQL can wake them)
// and the generation of the supervisor that started them (so a restarted
// supervisor never ends up with two sets of workers).
#pragma once

#include "pg/gucs.hpp"
#include "pg/pg_headers.hpp"

namespace pf::pg {

// photofactory.ingest_file(path) hands the path to a librarian, so that every
// move still goes through the librarian's crash-safe protocol (which needs
// its own commits: impossible inside the caller's transaction).
enum class RequestState : int { Free = 0, Queued, Taken, Done, Abandoned };
constexpr int kMaxRequests = 8;
struct IngestRequest {
    RequestState state;
    pid_t requester;  // the backend waiting in ingest_file()
    pid_t servicer;   // the librarian that took it (Taken/Abandoned)
    Latch* requester_latch;
    char path[MAXPGPATH];
    char result[16];
    char asset_id[40];
    char stored_path[MAXPGPATH];
    char reason[512];
};

struct SharedState {
    LWLock* lock;                         // guards every field below but wake_requests (tranche "photofactory")
    uint32 generation;                    // bumped by every supervisor (re)start or reconfiguration
    pid_t supervisor_pid;
    Latch* librarian_latch[kMaxLibrarians];  // NULL when that librarian is not running
    pid_t librarian_pid[kMaxLibrarians];
    int librarian_severity[kMaxLibrarians];  // 0 OK, 1 WARNING, 2 ERROR: the service reports the worst
    pg_atomic_uint64 wake_requests;        // bumped by ingest_now(); librarians rescan when it moves
    IngestRequest requests[kMaxRequests];
};

// Null until shared memory is attached (i.e. when the library was not preloaded).
extern SharedState* g_shared;

void install_shmem_hooks();

uint32 shared_generation();
uint32 bump_generation(pid_t supervisor_pid);
void register_librarian(int index, Latch* latch);
void unregister_librarian(int index);
// Sets every running librarian's latch; returns how many were woken.
int wake_librarians();

// Publishes this librarian's severity and returns the worst of all running ones.
int librarian_worst_severity(int index, int mine);

// Backend side of ingest_file: returns the slot used, or -1 when all are busy.
// Slots whose requester or librarian is gone are reclaimed first.
int queue_ingest_request(const char* path);
// Backend side, while waiting: Done (result copied out and the slot freed),
// Waiting, or Lost (the librarian that took it exited before finishing; the
// slot is freed).
enum class RequestPoll { Waiting, Done, Lost };
RequestPoll poll_ingest_request(int slot, IngestRequest* out);
// Backend side, on error or exit while waiting: the librarian finishes the
// file anyway and frees the slot (or it is freed now if nobody took it).
void abandon_ingest_request(int slot);
// Librarian side, at exit: requests it took but did not finish are reported
// to their requester as lost (or freed when abandoned).
void release_requests_of_this_process();
// Librarian side: claims the next queued request (copies its path); -1 if none.
int take_ingest_request(char* path_out, size_t len);
void complete_ingest_request(int slot, const char* result, const char* asset_id, const char* stored_path,
                             const char* reason);

}  // namespace pf::pg
