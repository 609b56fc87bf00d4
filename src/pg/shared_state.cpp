#include "pg/shared_state.hpp"

extern "C" {
#include "storage/procarray.h"
}

namespace pf::pg {

SharedState* g_shared = nullptr;

namespace {

shmem_request_hook_type prev_shmem_request_hook = nullptr;
shmem_startup_hook_type prev_shmem_startup_hook = nullptr;

constexpr const char* kTranche = "photofactory";

void request_shmem() {
    if (prev_shmem_request_hook) prev_shmem_request_hook();
    RequestAddinShmemSpace(MAXALIGN(sizeof(SharedState)));
    // An LWLock, not a spinlock: the request slots copy paths and reasons of
    // up to 1 KB each under it, longer than a spinlock should ever be held
    // (waiters spin, and a spinlock stuck for a second PANICs the server).
    RequestNamedLWLockTranche(kTranche, 1);
}

void startup_shmem() {
    if (prev_shmem_startup_hook) prev_shmem_startup_hook();
    bool found = false;
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    g_shared = static_cast<SharedState*>(ShmemInitStruct("photofactory", sizeof(SharedState), &found));
    if (!found) {
        memset(g_shared, 0, sizeof(SharedState));
        g_shared->lock = &GetNamedLWLockTranche(kTranche)->lock;
        pg_atomic_init_u64(&g_shared->wake_requests, 0);
    }
    LWLockRelease(AddinShmemInitLock);
}

}  // namespace

void install_shmem_hooks() {
    prev_shmem_request_hook = shmem_request_hook;
    shmem_request_hook = request_shmem;
    prev_shmem_startup_hook = shmem_startup_hook;
    shmem_startup_hook = startup_shmem;
}

uint32 shared_generation() {
    if (g_shared == nullptr) return 0;
    LWLockAcquire(g_shared->lock, LW_SHARED);
    uint32 g = g_shared->generation;
    LWLockRelease(g_shared->lock);
    return g;
}

uint32 bump_generation(pid_t supervisor_pid) {
    LWLockAcquire(g_shared->lock, LW_EXCLUSIVE);
    uint32 g = ++g_shared->generation;
    g_shared->supervisor_pid = supervisor_pid;
    LWLockRelease(g_shared->lock);
    return g;
}

void register_librarian(int index, Latch* latch) {
    if (g_shared == nullptr || index < 0 || index >= kMaxLibrarians) return;
    LWLockAcquire(g_shared->lock, LW_EXCLUSIVE);
    g_shared->librarian_latch[index] = latch;
    g_shared->librarian_pid[index] = MyProcPid;
    LWLockRelease(g_shared->lock);
}

void unregister_librarian(int index) {
    if (g_shared == nullptr || index < 0 || index >= kMaxLibrarians) return;
    LWLockAcquire(g_shared->lock, LW_EXCLUSIVE);
    if (g_shared->librarian_pid[index] == MyProcPid) {
        g_shared->librarian_latch[index] = nullptr;
        g_shared->librarian_pid[index] = 0;
        g_shared->librarian_severity[index] = 0;
    }
    LWLockRelease(g_shared->lock);
}

int librarian_worst_severity(int index, int mine) {
    if (g_shared == nullptr || index < 0 || index >= kMaxLibrarians) return mine;
    int worst = mine;
    LWLockAcquire(g_shared->lock, LW_EXCLUSIVE);
    g_shared->librarian_severity[index] = mine;
    for (int i = 0; i < kMaxLibrarians; i++)
        if (g_shared->librarian_latch[i] != nullptr && g_shared->librarian_severity[i] > worst)
            worst = g_shared->librarian_severity[i];
    LWLockRelease(g_shared->lock);
    return worst;
}

int wake_librarians() {
    if (g_shared == nullptr) return 0;
    pg_atomic_fetch_add_u64(&g_shared->wake_requests, 1);
    Latch* latches[kMaxLibrarians];
    int n = 0;
    // SetLatch outside the lock: a woken librarian would only wait on it.
    LWLockAcquire(g_shared->lock, LW_SHARED);
    for (int i = 0; i < kMaxLibrarians; i++)
        if (g_shared->librarian_latch[i] != nullptr) latches[n++] = g_shared->librarian_latch[i];
    LWLockRelease(g_shared->lock);
    for (int i = 0; i < n; i++) SetLatch(latches[i]);
    return n;
}

namespace {

// A process that is gone never frees its slot: a requester ended by FATAL
// (pg_terminate_backend) or a librarian that exited mid-request. Liveness is
// checked outside our lock (BackendPidGetProc takes ProcArrayLock: no lock
// order to get wrong); a slot is reclaimed only if it did not change meanwhile.
bool alive(pid_t pid) {
    return pid != 0 && BackendPidGetProc(pid) != nullptr;
}

void reclaim_stale_requests() {
    RequestState state[kMaxRequests];
    pid_t requester[kMaxRequests], servicer[kMaxRequests];
    LWLockAcquire(g_shared->lock, LW_SHARED);
    for (int i = 0; i < kMaxRequests; i++) {
        state[i] = g_shared->requests[i].state;
        requester[i] = g_shared->requests[i].requester;
        servicer[i] = g_shared->requests[i].servicer;
    }
    LWLockRelease(g_shared->lock);
    bool requester_alive[kMaxRequests], servicer_alive[kMaxRequests];
    for (int i = 0; i < kMaxRequests; i++) {
        requester_alive[i] = state[i] == RequestState::Free || alive(requester[i]);
        servicer_alive[i] = (state[i] != RequestState::Taken && state[i] != RequestState::Abandoned) ||
                            alive(servicer[i]);
    }
    LWLockAcquire(g_shared->lock, LW_EXCLUSIVE);
    for (int i = 0; i < kMaxRequests; i++) {
        IngestRequest& r = g_shared->requests[i];
        if (r.state != state[i] || r.requester != requester[i] || r.servicer != servicer[i]) continue;
        switch (r.state) {
            case RequestState::Queued:
            case RequestState::Done:
                if (!requester_alive[i]) r.state = RequestState::Free;  // nobody waits for it
                break;
            case RequestState::Taken:
                if (!servicer_alive[i] && !requester_alive[i]) r.state = RequestState::Free;
                else if (!requester_alive[i]) r.state = RequestState::Abandoned;
                break;
            case RequestState::Abandoned:
                if (!servicer_alive[i]) r.state = RequestState::Free;
                break;
            case RequestState::Free:
                break;
        }
    }
    LWLockRelease(g_shared->lock);
}

}  // namespace

int queue_ingest_request(const char* path) {
    if (g_shared == nullptr) return -1;
    reclaim_stale_requests();
    int slot = -1;
    LWLockAcquire(g_shared->lock, LW_EXCLUSIVE);
    for (int i = 0; i < kMaxRequests; i++) {
        if (g_shared->requests[i].state == RequestState::Free) {
            IngestRequest& r = g_shared->requests[i];
            r.state = RequestState::Queued;
            r.requester = MyProcPid;
            r.servicer = 0;
            r.requester_latch = MyLatch;
            strlcpy(r.path, path, sizeof r.path);
            r.result[0] = r.asset_id[0] = r.stored_path[0] = r.reason[0] = '\0';
            slot = i;
            break;
        }
    }
    LWLockRelease(g_shared->lock);
    return slot;
}

int take_ingest_request(char* path_out, size_t len) {
    if (g_shared == nullptr) return -1;
    reclaim_stale_requests();  // a request whose caller is gone is not worth serving
    int slot = -1;
    LWLockAcquire(g_shared->lock, LW_EXCLUSIVE);
    for (int i = 0; i < kMaxRequests; i++) {
        if (g_shared->requests[i].state == RequestState::Queued) {
            g_shared->requests[i].state = RequestState::Taken;
            g_shared->requests[i].servicer = MyProcPid;
            strlcpy(path_out, g_shared->requests[i].path, len);
            slot = i;
            break;
        }
    }
    LWLockRelease(g_shared->lock);
    return slot;
}

void complete_ingest_request(int slot, const char* result, const char* asset_id, const char* stored_path,
                             const char* reason) {
    Latch* wake = nullptr;
    LWLockAcquire(g_shared->lock, LW_EXCLUSIVE);
    IngestRequest& r = g_shared->requests[slot];
    if (r.state == RequestState::Abandoned) {
        r.state = RequestState::Free;  // the caller gave up (cancelled): nobody to tell
    } else {
        strlcpy(r.result, result, sizeof r.result);
        strlcpy(r.asset_id, asset_id, sizeof r.asset_id);
        strlcpy(r.stored_path, stored_path, sizeof r.stored_path);
        strlcpy(r.reason, reason, sizeof r.reason);
        r.state = RequestState::Done;
        wake = r.requester_latch;
    }
    LWLockRelease(g_shared->lock);
    if (wake != nullptr) SetLatch(wake);
}

RequestPoll poll_ingest_request(int slot, IngestRequest* out) {
    LWLockAcquire(g_shared->lock, LW_EXCLUSIVE);
    IngestRequest& r = g_shared->requests[slot];
    RequestState state = r.state;
    pid_t servicer = r.servicer;
    if (state == RequestState::Done) {
        *out = r;
        r.state = RequestState::Free;
    }
    LWLockRelease(g_shared->lock);
    if (state != RequestState::Taken || alive(servicer)) return state == RequestState::Done ? RequestPoll::Done : RequestPoll::Waiting;
    // The librarian exited without finishing (its exit hook normally reports
    // that; this covers any way it could not run).
    bool lost = false;
    LWLockAcquire(g_shared->lock, LW_EXCLUSIVE);
    if (r.state == RequestState::Taken && r.servicer == servicer) {
        r.state = RequestState::Free;
        lost = true;
    }
    LWLockRelease(g_shared->lock);
    return lost ? RequestPoll::Lost : RequestPoll::Waiting;
}

void abandon_ingest_request(int slot) {
    LWLockAcquire(g_shared->lock, LW_EXCLUSIVE);
    IngestRequest& r = g_shared->requests[slot];
    if (r.requester == MyProcPid) {
        if (r.state == RequestState::Taken) r.state = RequestState::Abandoned;
        else if (r.state == RequestState::Queued || r.state == RequestState::Done) r.state = RequestState::Free;
    }
    LWLockRelease(g_shared->lock);
}

void release_requests_of_this_process() {
    if (g_shared == nullptr) return;
    Latch* wake[kMaxRequests];
    int n = 0;
    LWLockAcquire(g_shared->lock, LW_EXCLUSIVE);
    for (int i = 0; i < kMaxRequests; i++) {
        IngestRequest& r = g_shared->requests[i];
        if (r.servicer != MyProcPid) continue;
        if (r.state == RequestState::Abandoned) {
            r.state = RequestState::Free;
        } else if (r.state == RequestState::Taken) {
            strlcpy(r.result, "lost", sizeof r.result);
            r.asset_id[0] = r.stored_path[0] = '\0';
            strlcpy(r.reason, "the librarian exited before finishing this file", sizeof r.reason);
            r.state = RequestState::Done;
            wake[n++] = r.requester_latch;
        }
    }
    LWLockRelease(g_shared->lock);
    for (int i = 0; i < n; i++) SetLatch(wake[i]);
}

}  // namespace pf::pg
