// thumbnailer: on the worker template, claims assets with
// photofactory.pending_thumbnails() (FOR UPDATE SKIP LOCKED, so parallel
// thumbnailers never share one), renders both renditions with the core
// (libvips / Exiv2 / FFmpeg) and marks each asset only after both files are
// durable (_thumbnail_done, in the transaction that holds the claim).
//
// A file that cannot be rendered is this service's own bookkeeping, not a
// template failure: process() records it with _thumbnail_failed (which keeps
// other stages' errors and schedules a bounded number of retries) and
// reports the unit as handled, so the template's record_error does not
// replace what the librarian found. Only an ERROR raised while doing so goes
// the template's way (retire() then still counts the attempt).
//
// Inside the backend: the libraries run with every signal blocked (their
// threads inherit that), never call PostgreSQL, and their errors come back as
// text (render_unit is noexcept). Ingest keeps priority: this process runs at
// nice 10, and pauses before each batch while a librarian is busy.
#include "pg/thumbnailer.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

#include "core/root_guard.hpp"
#include "core/imaging_runtime.hpp"
#include "core/safe_move.hpp"
#include "core/thumbnail_layout.hpp"
#include "core/thumbnail_render.hpp"
#include "pg/boundary.hpp"
#include "pg/core_setup.hpp"
#include "pg/gucs.hpp"
#include "pg/pg_headers.hpp"

namespace pf::pg {
namespace {

constexpr int kBatch = 4;        // assets per transaction (their row locks are held while rendering)
constexpr long kIdleMs = 2000;   // queue empty
constexpr long kYieldMs = 1000;  // a librarian is busy: this pause before each batch
constexpr int kErrLen = 480;

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
    char rel[MAXPGPATH];  // final_path relative to storage_dir; "" when outside it
    char name[256];
    bool ok;
    char err[kErrLen];
};
Unit g_unit;
bool g_rendered[kBatch];  // by claim row: both renditions written

struct Counters {
    bool started;
    int64 failed;
    char last_failure[200];
};
Counters g_count;

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
        int t = pf::ensure_dir_path(s, "Thumbnails", true, static_cast<mode_t>(storage_dir_mode()));
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
        if (u->rel[0] == '\0')
            throw pf::ThumbnailError(pf::ThumbFailure::Missing, "the file is not under photofactory.storage_dir");
        try {
            fd = pf::open_file_beneath(g_roots.storage_fd, u->rel);
        } catch (const pf::IoError& e) {
            throw pf::ThumbnailError(
                e.err == ENOENT || e.err == ENOTDIR ? pf::ThumbFailure::Missing : pf::ThumbFailure::Io,
                std::string("original ") + u->rel + ": " + strerror(e.err));
        }
        pf::RenderResult r = pf::render_renditions(fd, u->name, s);
        // photofactory.storage_mode, as the librarian applies it to Originals/.
        pf::write_renditions(g_roots.thumbs_fd, u->id, r.bytes, static_cast<mode_t>(storage_dir_mode()),
                             static_cast<mode_t>(storage_file_mode()));
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

void failed(const char* id, const char* reason) {
    Oid types[3] = {TEXTOID, TEXTOID, INT4OID};
    Datum values[3] = {CStringGetTextDatum(id), CStringGetTextDatum(reason), Int32GetDatum(guc_thumbnail_max_attempts)};
    int rc = SPI_execute_with_args(
        "SELECT photofactory._thumbnail_failed($1::pg_catalog.uuid, $2::pg_catalog.text, $3::pg_catalog.int4)", 3,
        types, values, nullptr, false, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "photofactory._thumbnail_failed failed: %s", SPI_result_code_string(rc));
    g_count.failed++;
    snprintf(g_count.last_failure, sizeof g_count.last_failure, "%s", reason);
}

// The library must not lie in the inbox, nor the inbox in it: the librarian
// then refuses to ingest (core/root_guard), and the thumbnailer must not write
// Thumbnails/ there either. Checked before anything is created. No C++ object
// outlives the try block; nothing here calls PostgreSQL.
bool roots_separate(char* why, size_t n) noexcept {
    if (guc_inbox_dir == nullptr || guc_inbox_dir[0] == '\0') return true;
    int in = open(guc_inbox_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int lib = open(guc_storage_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool ok = false;
    try {
        std::string c = pf::roots_conflict(guc_inbox_dir, in, guc_storage_dir, lib);
        ok = c.empty();
        if (!ok) snprintf(why, n, "Refusing to write renditions: %s", c.c_str());
    } catch (...) {
        snprintf(why, n, "Refusing to write renditions: the inbox and storage folders cannot be compared");
    }
    if (in >= 0) close(in);
    if (lib >= 0) close(lib);
    return ok;
}

// --- hooks ---------------------------------------------------------------

bool thumbnailer_prepare(ServiceStatus* st) {
    if (!g_count.started) {
        // Ingest first. Linux applies this to the calling thread; the library
        // threads started later inherit it.
        (void)setpriority(PRIO_PROCESS, 0, 10);
        ensure_core_initialized();
        apply_imaging_settings();
        g_count.started = true;
    }
    if (guc_storage_dir == nullptr || guc_storage_dir[0] == '\0') {
        snprintf(st->status, sizeof st->status, "WARNING");
        snprintf(st->detail, sizeof st->detail, "Idle: photofactory.storage_dir is not set");
        return false;
    }
    char err[kErrLen];
    if (!roots_separate(err, sizeof err)) {
        snprintf(st->status, sizeof st->status, "WARNING");
        snprintf(st->detail, sizeof st->detail, "%s", err);
        return false;
    }
    if (!open_roots(guc_storage_dir, err, sizeof err)) {
        snprintf(st->status, sizeof st->status, "ERROR");
        snprintf(st->detail, sizeof st->detail, "%s", err);
        return false;
    }
    bool yielding = librarian_busy();
    if (yielding) {
        pgstat_report_activity(STATE_RUNNING, "thumbnailer: yielding to ingest");
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, kYieldMs, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }
    if (g_count.failed > 0) snprintf(st->status, sizeof st->status, "WARNING");
    snprintf(st->detail, sizeof st->detail, "%lld could not be rendered since start%s%s%s",
             static_cast<long long>(g_count.failed), g_count.failed ? " (last: " : "", g_count.last_failure,
             g_count.failed ? ")" : "");
    if (yielding) strncat(st->detail, "; yielding to ingest", sizeof st->detail - strlen(st->detail) - 1);
    return true;
}

bool thumbnailer_process(SPITupleTable* claimed, uint64 row, char* err, size_t errlen) {
    Unit* u = &g_unit;
    memset(u, 0, sizeof *u);
    char* id = SPI_getvalue(claimed->vals[row], claimed->tupdesc, 1);
    char* path = SPI_getvalue(claimed->vals[row], claimed->tupdesc, 2);
    snprintf(u->id, sizeof u->id, "%s", id ? id : "");
    size_t root_len = strlen(g_roots.dir);
    if (path != nullptr && strncmp(path, g_roots.dir, root_len) == 0 && path[root_len] == '/')
        snprintf(u->rel, sizeof u->rel, "%s", path + root_len + 1);
    const char* slash = path ? strrchr(path, '/') : nullptr;
    snprintf(u->name, sizeof u->name, "%s", slash ? slash + 1 : (path ? path : ""));

    pgstat_report_activity(STATE_RUNNING, "thumbnailer: rendering");
    render_unit(u, render_settings());
    flush_core_log();
    if (row < static_cast<uint64>(kBatch)) g_rendered[row] = u->ok;
    if (!u->ok) {
        ereport(LOG, (errmsg("photofactory thumbnailer: asset %s: %s", u->id, u->err)));
        failed(u->id, u->err);  // handled here: bounded retries, other stages' errors kept
    }
    CHECK_FOR_INTERRUPTS();
    return true;
}

void thumbnailer_complete(const pg_uuid_t* ids, const bool* ok, int from, int to) {
    for (int i = from; i < to && i < kBatch; i++) {
        if (!ok[i] || !g_rendered[i]) continue;
        Oid type = UUIDOID;
        Datum v = UUIDPGetDatum(const_cast<pg_uuid_t*>(&ids[i]));
        int rc = SPI_execute_with_args("SELECT photofactory._thumbnail_done($1::pg_catalog.uuid)", 1, &type, &v,
                                       nullptr, false, 0);
        if (rc != SPI_OK_SELECT) elog(ERROR, "photofactory._thumbnail_done failed: %s", SPI_result_code_string(rc));
    }
}

// An ERROR was raised while handling the unit (the template recorded it):
// count the attempt, so that it is not retried at every batch.
void thumbnailer_retire(const pg_uuid_t* id) {
    Datum d = DirectFunctionCall1(uuid_out, UUIDPGetDatum(const_cast<pg_uuid_t*>(id)));
    failed(DatumGetCString(d), "an error was raised while recording it (see the server log)");
}

void thumbnailer_on_reload() {
    if (g_count.started) apply_imaging_settings();
}

}  // namespace

const ServiceDef kThumbnailerService = {
    "thumbnailer",
    WorkerKind::Thumbnailer,
    &guc_thumbnailer_workers,
    kMaxServiceWorkers,
    "SELECT q.id, q.final_path FROM photofactory.pending_thumbnails($1) AS q",
    kBatch,
    kIdleMs,
    thumbnailer_prepare,
    thumbnailer_process,
    thumbnailer_complete,
    thumbnailer_retire,
    thumbnailer_on_reload,
};

}  // namespace pf::pg
