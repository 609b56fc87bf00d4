// The librarian's folders: the inbox and library roots opened once and
// checked for being moved, and the inotify watcher of the inbox.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "core/inbox_watch.hpp"
#include "core/root_guard.hpp"
#include "pg/boundary.hpp"
#include "pg/gucs.hpp"
#include "pg/librarian_state.hpp"
#include "pg/worker.hpp"

namespace pf::pg {

void close_dirs() {
    if (lib_st.inbox_fd >= 0) close(lib_st.inbox_fd);
    if (lib_st.storage_fd >= 0) close(lib_st.storage_fd);
    lib_st.inbox_fd = lib_st.storage_fd = -1;
    pf_core_call("stopping inotify", [] {
        delete lib_heap.watcher;
        lib_heap.watcher = nullptr;
    });
}

namespace {

// Overlapping roots are refused with a clear message, logged once per
// configuration rather than on every 5 s retry.
bool refuse_roots(const char* conflict) {
    if (conflict == nullptr || conflict[0] == '\0') return false;
    static char logged[512] = "";
    if (strcmp(logged, conflict) != 0) {
        ereport(WARNING, (errmsg("photofactory %s: not ingesting: %s", g_worker.label, conflict),
                          errhint("The library must not be inside the inbox (it would be ingested again) nor the "
                                  "inbox inside the library. Point the two settings at separate folders and reload.")));
        snprintf(logged, sizeof logged, "%s", conflict);
    }
    set_problem("ERROR", "Refusing to ingest: %s", conflict);
    return true;
}

}  // namespace

bool open_dirs() {
    if (lib_st.inbox_fd >= 0 && lib_st.storage_fd >= 0) return true;
    close_dirs();
    if (guc_inbox_dir[0] == '\0' || guc_storage_dir[0] == '\0') {
        set_problem("WARNING", "Idle: photofactory.%s is not set", guc_inbox_dir[0] == '\0' ? "inbox_dir" : "storage_dir");
        return false;
    }
    // First by name, before the library root may be created inside the inbox.
    const char* in_dir = guc_inbox_dir;
    const char* lib_dir = guc_storage_dir;
    if (refuse_roots(pf_core_call_cstring("checking the folders", [&] {
            return pf::roots_conflict(in_dir, -1, lib_dir, -1);
        })))
        return false;
    // The roots themselves are chosen by the superuser and may be links;
    // nothing below them is ever followed.
    lib_st.inbox_fd = open(guc_inbox_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lib_st.inbox_fd < 0) {
        set_problem("ERROR", "Cannot open inbox %s: %s", guc_inbox_dir, strerror(errno));
        return false;
    }
    if (mkdir(guc_storage_dir, 0750) == 0) {
        if (storage_dir_mode() != 0) (void)chmod(guc_storage_dir, storage_dir_mode());
    } else if (errno != EEXIST) {
        set_problem("ERROR", "Cannot create storage %s: %s", guc_storage_dir, strerror(errno));
        close_dirs();
        return false;
    }
    lib_st.storage_fd = open(guc_storage_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lib_st.storage_fd < 0) {
        set_problem("ERROR", "Cannot open storage %s: %s", guc_storage_dir, strerror(errno));
        close_dirs();
        return false;
    }
    // Then the folders themselves: links and other spellings of one folder.
    int in_fd = lib_st.inbox_fd, lib_fd = lib_st.storage_fd;
    if (refuse_roots(pf_core_call_cstring("checking the folders", [&] {
            return pf::roots_conflict(in_dir, in_fd, lib_dir, lib_fd);
        }))) {
        close_dirs();
        return false;
    }
    snprintf(lib_st.inbox_dir, sizeof lib_st.inbox_dir, "%s", guc_inbox_dir);
    snprintf(lib_st.storage_dir, sizeof lib_st.storage_dir, "%s", guc_storage_dir);
    ereport(LOG, (errmsg("photofactory %s: watching inbox \"%s\", storing into \"%s\" (%d librarian%s)",
                         g_worker.label, lib_st.inbox_dir, lib_st.storage_dir, guc_librarian_workers,
                         guc_librarian_workers == 1 ? "" : "s")));
    lib_st.recovered = false;
    lib_st.dirty = true;
    lib_st.status[0] = '\0';
    snprintf(lib_st.status, sizeof lib_st.status, "OK");
    lib_st.problem[0] = '\0';
    return true;
}

// The folders are pinned by the descriptors opened above; the settings name
// paths. A folder renamed and recreated, or a disk mounted over it, would
// leave the librarian working in the old tree (new photos unseen, files
// stored where the ledger does not say). Checked before each scan and batch:
// when a path no longer leads to the open folder, both are reopened.
bool roots_moved() {
    if (lib_st.inbox_fd < 0 || lib_st.storage_fd < 0) return false;
    auto moved = [](const char* path, int fd) {
        struct stat by_path, by_fd;
        if (fstat(fd, &by_fd) != 0 || stat(path, &by_path) != 0) return true;
        return by_path.st_dev != by_fd.st_dev || by_path.st_ino != by_fd.st_ino;
    };
    const char* which = moved(lib_st.inbox_dir, lib_st.inbox_fd)       ? "photofactory.inbox_dir"
                        : moved(lib_st.storage_dir, lib_st.storage_fd) ? "photofactory.storage_dir"
                                                               : nullptr;
    if (which == nullptr) return false;
    ereport(LOG, (errmsg("photofactory %s: %s (%s) no longer leads to the folder in use (renamed, replaced or "
                         "mounted over); reopening the inbox and the library",
                         g_worker.label, which, which[14] == 'i' ? lib_st.inbox_dir : lib_st.storage_dir)));
    close_dirs();
    return true;
}

void start_watcher() {
    if (lib_heap.watcher != nullptr || lib_st.inotify_failed) return;
    char err[512] = "";
    struct Arg {
        int fd;
        char* err;
    } a{lib_st.inbox_fd, err};
    auto fn = [](void* p) {
        auto* a = static_cast<Arg*>(p);
        pf_core_call("starting inotify", [a] { lib_heap.watcher = new pf::InboxWatcher(a->fd); });
    };
    if (!run_guarded("starting inotify", fn, &a, err, sizeof err)) {
        lib_st.inotify_failed = true;
        ereport(LOG, (errmsg("photofactory %s: inotify unavailable (%s); relying on scans every %d s",
                             g_worker.label, err, guc_scan_interval_s)));
        return;
    }
    if (lib_heap.watcher->incomplete())
        ereport(LOG, (errmsg("photofactory %s: inotify watch limit reached; folders beyond it are found by scans every %d s",
                             g_worker.label, guc_scan_interval_s),
                      errhint("Raise fs.inotify.max_user_watches.")));
}

IngestTarget target() {
    return IngestTarget{lib_st.inbox_fd, lib_st.storage_fd, lib_st.inbox_dir, lib_st.storage_dir, g_worker.index};
}

}  // namespace pf::pg
