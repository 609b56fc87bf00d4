// thumbnailer: claims assets with photofactory.pending_thumbnails() (FOR
// UPDATE SKIP LOCKED, so parallel thumbnailers never share one), renders both
// renditions with the core (libvips / Exiv2 / FFmpeg), and marks each asset
// only after both files are durable. A file that cannot be rendered gets
// record_error and a bounded number of retries (_thumbnail_failed); nothing
// stops the service.
//
// Inside the backend: the libraries run with every signal blocked (their
// threads inherit that), never call PostgreSQL, and their errors come back as
// data (render_unit is noexcept). Ingest keeps priority: this process runs at
// a lower CPU priority, and takes one asset at a time with a pause while a
// librarian is busy.
#include "pg/thumbnailer.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

#include "core/imaging_runtime.hpp"
#include "core/safe_move.hpp"
#include "core/thumbnail_layout.hpp"
#include "core/thumbnail_render.hpp"
#include "pg/boundary.hpp"
#include "pg/core_setup.hpp"
#include "pg/gucs.hpp"
#include "pg/pg_headers.hpp"
#include "pg/worker.hpp"

namespace pf::pg {
namespace {

constexpr int kBatch = 8;          // assets per transaction (row locks are held while rendering)
constexpr int kBatchWhileIngest = 1;
constexpr long kIdleMs = 2000;     // queue empty
constexpr long kYieldMs = 500;     // a librarian is busy: one asset, then this pause
constexpr int kErrLen = 512;

// Storage root and its Thumbnails/ folder, opened once and again whenever
// photofactory.storage_dir changes.
struct Roots {
    char dir[MAXPGPATH];
    int storage_fd;
    int thumbs_fd;
};
Roots g_roots = {"", -1, -1};

struct Unit {
    char id[40];
    char rel[MAXPGPATH];   // final_path relative to storage_dir; "" when outside it
    char name[256];
    bool ok;
    char err[kErrLen];
};
Unit g_units[kBatch];

struct Progress {
    int64 done;
    int64 failed;
    int claimed;
    bool librarian_busy;
    bool extension_missing;
    bool not_configured;
    char last_failure[kErrLen];
    TimestampTz next_beat;
    bool sql_failed;
};
Progress g_progress;

void close_roots() {
    if (g_roots.thumbs_fd >= 0) close(g_roots.thumbs_fd);
    if (g_roots.storage_fd >= 0) close(g_roots.storage_fd);
    g_roots.thumbs_fd = g_roots.storage_fd = -1;
    g_roots.dir[0] = '\0';
}

// Pure C++, no PostgreSQL call: opens Thumbnails/ below the storage root
// (created on first use). Returns false with err set on failure.
bool open_roots(const char* storage_dir, char* err, size_t errlen) noexcept {
    if (g_roots.storage_fd >= 0 && strcmp(g_roots.dir, storage_dir) == 0) return true;
    close_roots();
    int s = open(storage_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s < 0) {
        snprintf(err, errlen, "cannot open photofactory.storage_dir %s: %s", storage_dir, strerror(errno));
        return false;
    }
    try {
        int t = pf::ensure_dir_path(s, "Thumbnails", true);
        g_roots.storage_fd = s;
        g_roots.thumbs_fd = t;
        snprintf(g_roots.dir, sizeof g_roots.dir, "%s", storage_dir);
        return true;
    } catch (const std::exception& e) {
        close(s);
        snprintf(err, errlen, "cannot open %s/Thumbnails: %s", storage_dir, e.what());
        return false;
    }
}

pf::RenderSettings render_settings() {
    pf::RenderSettings s;
    s.thumbnail_size = guc_thumbnail_size;
    s.preview_size = guc_preview_size;
    s.max_pixels = static_cast<int64_t>(guc_thumbnail_max_megapixels) * 1000 * 1000;
    s.max_decode_bytes = static_cast<size_t>(guc_thumbnail_max_decode_mb) << 20;
    return s;
}

// Everything the libraries do for one asset. noexcept: every exception
// becomes the unit's error text, so no C++ exception reaches PostgreSQL code.
void render_unit(Unit* u, const pf::RenderSettings& s) noexcept {
    int fd = -1;
    try {
        if (u->rel[0] == '\0') throw pf::ThumbnailError(pf::ThumbFailure::Missing, "the file is not under photofactory.storage_dir");
        try {
            fd = pf::open_file_beneath(g_roots.storage_fd, u->rel);
        } catch (const pf::IoError& e) {
            throw pf::ThumbnailError(e.err == ENOENT || e.err == ENOTDIR ? pf::ThumbFailure::Missing : pf::ThumbFailure::Io,
                                     std::string("original ") + u->rel + ": " + strerror(e.err));
        }
        pf::RenderResult r = pf::render_renditions(fd, u->name, s);
        pf::write_renditions(g_roots.thumbs_fd, u->id, r.bytes);
        u->ok = true;
    } catch (const std::bad_alloc&) {
        snprintf(u->err, sizeof u->err, "out of memory while rendering");
    } catch (const std::exception& e) {
        snprintf(u->err, sizeof u->err, "%s", e.what());
    } catch (...) {
        snprintf(u->err, sizeof u->err, "unknown error while rendering");
    }
    if (fd >= 0) close(fd);
    pf::imaging_release_memory();
}

void apply_imaging_settings() {
    pf::ImagingSettings is;
    is.concurrency = guc_thumbnailer_threads;
    is.cache_max_operations = guc_thumbnail_cache_mb > 0 ? 100 : 0;
    is.cache_max_bytes = static_cast<size_t>(guc_thumbnail_cache_mb) << 20;
    is.cache_max_files = guc_thumbnail_cache_mb > 0 ? 10 : 0;
    pf_core_call("starting the imaging libraries", [&] { pf::imaging_init(is); });
}

bool librarian_busy() {
    int rc = SPI_execute(
        "SELECT 1 FROM pg_catalog.pg_stat_activity"
        " WHERE backend_type OPERATOR(pg_catalog.=) 'photofactory librarian'::pg_catalog.text"
        "   AND state OPERATOR(pg_catalog.=) 'active'::pg_catalog.text LIMIT 1",
        true, 1);
    return rc == SPI_OK_SELECT && SPI_processed > 0;
}

void heartbeat(bool force) {
    TimestampTz now = GetCurrentTimestamp();
    if (!force && now < g_progress.next_beat) return;
    char task[1024];
    const char* status = "OK";
    if (g_progress.not_configured) {
        status = "WARNING";
        snprintf(task, sizeof task, "Idle: photofactory.storage_dir is not set");
    } else {
        snprintf(task, sizeof task, "%s; %lld rendered, %lld failed since start%s%s%s",
                 g_progress.claimed > 0 ? "Rendering thumbnails" : "Idle: no asset awaits thumbnails",
                 static_cast<long long>(g_progress.done), static_cast<long long>(g_progress.failed),
                 g_progress.librarian_busy ? "; yielding to ingest" : "",
                 g_progress.last_failure[0] ? "; last failure: " : "", g_progress.last_failure);
        if (g_progress.last_failure[0]) status = "WARNING";
    }
    send_heartbeat("thumbnailer", status, task);
    g_progress.next_beat = TimestampTzPlusMilliseconds(now, static_cast<long>(guc_heartbeat_interval_s) * 1000L);
}

void call_uuid_fn(const char* sql, const char* id, const char* reason) {
    Oid types[3] = {TEXTOID, TEXTOID, INT4OID};
    Datum values[3] = {CStringGetTextDatum(id), reason ? CStringGetTextDatum(reason) : (Datum)0,
                       Int32GetDatum(guc_thumbnail_max_attempts)};
    int rc = SPI_execute_with_args(sql, reason ? 3 : 1, types, values, nullptr, false, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "%s failed: %s", sql, SPI_result_code_string(rc));
}

// One transaction: claim, render, mark. Rendering errors are data; only SQL
// errors raise (then the whole batch is rolled back and retried later).
void batch_step(void*) {
    g_progress.claimed = 0;
    g_progress.extension_missing = !extension_ready();
    if (g_progress.extension_missing) return;
    g_progress.not_configured = guc_storage_dir == nullptr || guc_storage_dir[0] == '\0';
    if (g_progress.not_configured) {
        heartbeat(false);
        return;
    }
    char err[kErrLen];
    if (!open_roots(guc_storage_dir, err, sizeof err)) {
        g_progress.not_configured = false;
        send_heartbeat("thumbnailer", "ERROR", err);
        g_progress.next_beat = 0;
        return;
    }
    g_progress.librarian_busy = librarian_busy();
    int limit = g_progress.librarian_busy ? kBatchWhileIngest : kBatch;

    Oid type = INT4OID;
    Datum arg = Int32GetDatum(limit);
    int rc = SPI_execute_with_args(
        "SELECT q.id::pg_catalog.text, q.final_path FROM photofactory.pending_thumbnails($1) AS q", 1, &type, &arg,
        nullptr, false, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "pending_thumbnails failed: %s", SPI_result_code_string(rc));
    int n = static_cast<int>(SPI_processed);
    size_t root_len = strlen(g_roots.dir);
    for (int i = 0; i < n; i++) {
        Unit* u = &g_units[i];
        memset(u, 0, sizeof *u);
        char* id = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
        char* path = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
        snprintf(u->id, sizeof u->id, "%s", id ? id : "");
        if (path != nullptr && strncmp(path, g_roots.dir, root_len) == 0 && path[root_len] == '/')
            snprintf(u->rel, sizeof u->rel, "%s", path + root_len + 1);
        const char* slash = path ? strrchr(path, '/') : nullptr;
        snprintf(u->name, sizeof u->name, "%s", slash ? slash + 1 : (path ? path : ""));
    }
    g_progress.claimed = n;
    pf::RenderSettings settings = render_settings();
    for (int i = 0; i < n; i++) {
        pgstat_report_activity(STATE_RUNNING, "thumbnailer: rendering");
        render_unit(&g_units[i], settings);
        if (g_units[i].ok) {
            call_uuid_fn("SELECT photofactory._thumbnail_done($1::pg_catalog.uuid)", g_units[i].id, nullptr);
            g_progress.done++;
        } else {
            call_uuid_fn("SELECT photofactory._thumbnail_failed($1::pg_catalog.uuid, $2::pg_catalog.text, $3::pg_catalog.int4)",
                         g_units[i].id, g_units[i].err);
            g_progress.failed++;
            snprintf(g_progress.last_failure, sizeof g_progress.last_failure, "%s: %s", g_units[i].id, g_units[i].err);
            ereport(LOG, (errmsg("photofactory thumbnailer: asset %s: %s", g_units[i].id, g_units[i].err)));
        }
        CHECK_FOR_INTERRUPTS();
    }
    heartbeat(false);
}

}  // namespace

void thumbnailer_main() {
    // Worker sessions run as superuser: nothing may resolve through a schema
    // someone else can write to.
    SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
    // Ingest first: the librarians run at normal priority. Linux applies this
    // to the calling thread, and the library threads started later inherit it.
    (void)setpriority(PRIO_PROCESS, 0, 10);
    ensure_core_initialized();
    apply_imaging_settings();

    bool announced_wait = false;
    long backoff_ms = 1000;
    while (!worker_should_exit()) {
        if (worker_reload_if_pending()) {
            apply_imaging_settings();
            g_progress.next_beat = 0;
        }
        bool ok = run_in_transaction("thumbnailer: claim, render, mark", batch_step, nullptr);
        flush_core_log();
        if (!ok) {
            // An SQL error rolled the batch back: try again, but not in a loop.
            worker_sleep(backoff_ms);
            backoff_ms = backoff_ms * 2 > 60000 ? 60000 : backoff_ms * 2;
            continue;
        }
        backoff_ms = 1000;
        if (g_progress.extension_missing) {
            if (!announced_wait)
                ereport(LOG, (errmsg("photofactory thumbnailer: waiting for CREATE EXTENSION photofactory in database \"%s\"",
                                     g_worker.database)));
            announced_wait = true;
            pgstat_report_activity(STATE_IDLE, "waiting for CREATE EXTENSION photofactory");
            worker_sleep(5000);
            continue;
        }
        announced_wait = false;
        if (g_progress.claimed == 0 || g_progress.not_configured) {
            pgstat_report_activity(STATE_IDLE, "thumbnailer: waiting for work");
            worker_sleep(kIdleMs);
        } else if (g_progress.librarian_busy) {
            pgstat_report_activity(STATE_IDLE, "thumbnailer: yielding to ingest");
            worker_sleep(kYieldMs);
        }
    }
    close_roots();
    proc_exit(0);
}

}  // namespace pf::pg
