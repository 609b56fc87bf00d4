// The scrub of backup copies: when there is no copy work, one batch of one
// target (round-robin) is read back and checked against its hash, throttled
// to photofactory.backup_scrub_rate_mb, and the pass's progress reported.
#include <time.h>
#include <unistd.h>

#include <cstdio>

#include "core/backup_copy.hpp"
#include "core/io_priority.hpp"
#include "pg/backup_state.hpp"
#include "pg/gucs.hpp"
#include "pg/pg_headers.hpp"
#include "pg/worker.hpp"

namespace pf::pg::backup {
namespace {

// noexcept: nothing thrown crosses into PostgreSQL frames.
struct ScrubCall {
    int root;
    const char* rel;
    const char* sha;
    double rate_bytes_s;  // 0: unbounded
    int state;            // CopyState
    uint64 bytes;
    char detail[1024];
};

void do_verify(ScrubCall* c) noexcept {
    c->state = static_cast<int>(pf::CopyState::Unreadable);
    c->bytes = 0;
    c->detail[0] = '\0';
    try {
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        uint64 done = 0;
        double rate = c->rate_bytes_s;
        // Sleeps so that the bytes read so far never run ahead of the rate.
        auto throttle = [&](size_t n) {
            done += n;
            if (rate <= 0) return;
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            double elapsed = (now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
            double ahead = static_cast<double>(done) / rate - elapsed;
            if (ahead > 0) usleep(static_cast<useconds_t>(ahead * 1e6));
        };
        pf::IdleIoPriority idle;  // a background pass: the librarian and the database first
        pf::CopyCheck r = pf::verify_copy(c->root, c->rel, c->sha, throttle);
        c->state = static_cast<int>(r.state);
        c->bytes = r.bytes;
        snprintf(c->detail, sizeof c->detail, "%s", r.detail.c_str());
    } catch (const std::exception& e) {
        snprintf(c->detail, sizeof c->detail, "%s", e.what());
    } catch (...) {
    }
}

}  // namespace

// One scrub batch of the next usable target with a pass due.
void scrub_batch(void* arg) {
    auto* s = static_cast<ScrubRound*>(arg);
    s->did_work = false;
    if (guc_backup_scrub_rate_mb <= 0) return;
    for (int k = 0; k < g_ntargets; k++) {
        Target* t = &g_targets[(g_scrub_rr + k) % g_ntargets];
        if (!t->usable) continue;
        char interval[32], limit[16];
        snprintf(interval, sizeof interval, "%d minutes", guc_backup_scrub_interval_min);
        snprintf(limit, sizeof limit, "%d", kScrubBatch);
        const char* v[3] = {t->id, interval, limit};
        exec_args("SELECT b.copy_id::pg_catalog.text, b.relative_path, b.file_hash"
                  " FROM photofactory._backup_scrub_batch($1::pg_catalog.uuid, $2::pg_catalog.interval,"
                  " $3::pg_catalog.int4) AS b",
                  3, v, "scrub batch");
        SPITupleTable* tt = SPI_tuptable;
        uint64 n = SPI_processed;
        // The pass started (or was under way): it may also be over.
        static ScrubCall call;
        int checked = 0;
        TimestampTz started = GetCurrentTimestamp();  // bounded: the target's row stays locked meanwhile
        for (uint64 i = 0; i < n && !worker_should_exit(); i++) {
            if (i > 0 && TimestampDifferenceExceeds(started, GetCurrentTimestamp(), kBatchMs)) break;
            char* copy_id = SPI_getvalue(tt->vals[i], tt->tupdesc, 1);
            call.root = t->fd;
            call.rel = SPI_getvalue(tt->vals[i], tt->tupdesc, 2);
            call.sha = SPI_getvalue(tt->vals[i], tt->tupdesc, 3);
            call.rate_bytes_s = guc_backup_scrub_rate_mb * 1024.0 * 1024.0;
            pgstat_report_activity(STATE_RUNNING, "scrubbing a backup copy");
            do_verify(&call);
            CHECK_FOR_INTERRUPTS();
            const char* w[3] = {copy_id, pf::to_string(static_cast<pf::CopyState>(call.state)),
                                call.detail[0] ? call.detail : nullptr};
            exec_args("SELECT photofactory._backup_scrub_result($1::pg_catalog.int8, $2, $3)", 3, w, "scrub result");
            checked++;
        }
        // Nothing (left) to verify while a pass is open: it is done.
        bool finished = false;
        if (static_cast<int>(n) < kScrubBatch && checked == static_cast<int>(n)) {
            const char* w[1] = {t->id};
            exec_args("SELECT photofactory._backup_scrub_finish($1::pg_catalog.uuid)", 1, w, "scrub finish");
            if (SPI_processed == 1) {
                char* done = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
                if (done != nullptr) {
                    snprintf(s->progress, sizeof s->progress, "%s", done);
                    finished = true;
                }
            }
        }
        if (n == 0) continue;
        s->did_work = true;
        if (finished) return;
        exec_args("SELECT format('scrubbing %s: %s copies verified, %s problems', t.name, t.scrub_checked,"
                  " t.scrub_problems) FROM photofactory.backup_targets t WHERE t.id = $1::pg_catalog.uuid",
                  1, v, "scrub progress");
        if (SPI_processed == 1)
            snprintf(s->progress, sizeof s->progress, "%s",
                     SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
        s->did_work = true;
        g_scrub_rr = (g_scrub_rr + k) % g_ntargets;
        return;
    }
    g_scrub_rr = (g_scrub_rr + 1) % (g_ntargets > 0 ? g_ntargets : 1);
}

}  // namespace pf::pg::backup
