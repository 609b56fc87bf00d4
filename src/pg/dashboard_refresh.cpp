// The cached figures: the costly statistics are refreshed by the loop every
// 30 s (fast) / 5 min (slow) as jobs of one query per step, so requests that
// arrive meanwhile wait at most one step, never a whole refresh.
#include <sys/statvfs.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/dashboard_render.hpp"
#include "core/uptime_slots.hpp"
#include "pg/boundary.hpp"
#include "pg/dashboard_internal.hpp"
#include "pg/dashboard_queries.hpp"
#include "pg/gucs.hpp"
#include "pg/pg_headers.hpp"
#include "pg/worker.hpp"

namespace pf::pg::dashw {

// --- statistics cache ---

double ms_since(const instr_time& start) {
    instr_time now;
    INSTR_TIME_SET_CURRENT(now);
    INSTR_TIME_SUBTRACT(now, start);
    return INSTR_TIME_GET_MILLISEC(now);
}

namespace {

// --- the slow refresh, one query per turn of the loop ---
//
// Grouping 7 days of history in one statement held the loop for 316 ms at a
// month of heartbeats (bench/ dashboard phase). The refresh is a job instead:
// kSlowBounds (its now()), kSlowSlots for each 12-hour chunk, whose slots
// core/uptime_slots merges, then kSlowFinal; the loop handles the requests
// that arrived between any two steps.

struct PlainSlot {
    char* name;  // malloc'd
    int64 slot;
    bool good;
    int worst;
    TimestampTz first;
};

struct SlotChunk {
    TimestampTz now;
    int index;
    PlainSlot* rows;  // malloc'd
    uint64 n;
};

struct SlowJob {
    int next;           // -1: idle; 0: bounds; 1..kSlowChunks: chunk next - 1; kSlowChunks + 1: final
    TimestampTz now, day_start;
    double work_ms, step_ms;
};
SlowJob g_slow = {-1, 0, 0, 0, 0};
dash::SlotAggregate* g_slots = nullptr;  // process lifetime

void free_chunk(SlotChunk* c) {
    for (uint64 i = 0; i < c->n; i++) free(c->rows[i].name);
    free(c->rows);
    c->rows = nullptr;
    c->n = 0;
}

void bounds_step(void* arg) {
    auto* j = static_cast<SlowJob*>(arg);
    XactReadOnly = true;
    if (SPI_execute(dashq::kSlowBounds, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "dashboard: reading the clock failed");
    bool isnull;
    j->now = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    j->day_start = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
}

void slots_step(void* arg) {
    auto* c = static_cast<SlotChunk*>(arg);
    XactReadOnly = true;
    Oid types[3] = {TIMESTAMPTZOID, INT4OID, BOOLOID};
    Datum values[3] = {TimestampTzGetDatum(c->now), Int32GetDatum(c->index),
                       BoolGetDatum(c->index == dashq::kSlowChunks - 1)};
    int rc = SPI_execute_with_args(dashq::kSlowSlots, 3, types, values, nullptr, true, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "dashboard slots query failed: %s", SPI_result_code_string(rc));
    c->rows = static_cast<PlainSlot*>(calloc(SPI_processed + 1, sizeof(PlainSlot)));
    if (c->rows == nullptr) elog(ERROR, "out of memory");
    TupleDesc d = SPI_tuptable->tupdesc;
    for (uint64 i = 0; i < SPI_processed; i++) {
        HeapTuple t = SPI_tuptable->vals[i];
        bool isnull;
        char* name = SPI_getvalue(t, d, 1);
        PlainSlot& r = c->rows[c->n];
        r.slot = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
        r.good = DatumGetBool(SPI_getbinval(t, d, 3, &isnull));
        r.worst = DatumGetInt32(SPI_getbinval(t, d, 4, &isnull));
        r.first = DatumGetTimestampTz(SPI_getbinval(t, d, 5, &isnull));
        r.name = strdup(name ? name : "");
        if (r.name == nullptr) elog(ERROR, "out of memory");
        c->n++;
    }
}

bool merge_chunk(const SlotChunk& c) noexcept {
    try {
        for (uint64 i = 0; i < c.n; i++)
            g_slots->add(dash::SlotRow{c.rows[i].name, c.rows[i].slot, c.rows[i].good, c.rows[i].worst,
                                       c.rows[i].first});
        return true;
    } catch (...) {
        return false;
    }
}

bool clear_slots() noexcept {
    try {
        if (g_slots == nullptr) g_slots = new dash::SlotAggregate();
        g_slots->clear();
        return true;
    } catch (...) {
        return false;
    }
}

char* slot_summary(TimestampTz day_start) noexcept {
    try {
        return dup_string(dash::slot_summary_json(*g_slots, day_start, 50), nullptr);
    } catch (...) {
        return nullptr;
    }
}

struct FinalArgs {
    TimestampTz now;
    const char* summary;
    char* result;  // malloc'd
};

void final_step(void* arg) {
    auto* f = static_cast<FinalArgs*>(arg);
    XactReadOnly = true;
    Oid types[2] = {TIMESTAMPTZOID, TEXTOID};
    Datum values[2] = {TimestampTzGetDatum(f->now), CStringGetTextDatum(f->summary)};
    int rc = SPI_execute_with_args(dashq::kSlowFinal, 2, types, values, nullptr, true, 1);
    if (rc != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "dashboard uptime query failed: %s", SPI_result_code_string(rc));
    char* v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
    if (v == nullptr) elog(ERROR, "dashboard uptime query returned NULL");
    f->result = strdup(v);
    if (f->result == nullptr) elog(ERROR, "out of memory");
}

// One step of the slow job; false when it failed (the job is dropped, the
// figures already shown stay).
bool slow_step() {
    char err[256];
    int step = g_slow.next;
    if (step == 0) {
        if (!clear_slots() || !run_in_transaction("dashboard refresh", bounds_step, &g_slow, err, sizeof err))
            return false;
    } else if (step <= dashq::kSlowChunks) {
        SlotChunk c{g_slow.now, step - 1, nullptr, 0};
        bool ok = run_in_transaction("dashboard refresh", slots_step, &c, err, sizeof err) && merge_chunk(c);
        free_chunk(&c);
        if (!ok) return false;
    } else {
        FinalArgs f{g_slow.now, slot_summary(g_slow.day_start), nullptr};
        bool ok = f.summary != nullptr && run_in_transaction("dashboard refresh", final_step, &f, err, sizeof err);
        free(const_cast<char*>(f.summary));
        clear_slots();  // 27,000 slots need not stay in memory for 5 minutes
        if (!ok) return false;
        free(g_stats.slow);
        g_stats.slow = f.result;
        g_slow.next = -1;
        return true;
    }
    g_slow.next++;
    return true;
}

// --- the fast refresh: kFastSteps queries, merged ---

struct FastJob {
    int next;      // -1: idle; else the next of dashq::kFastStats
    char* merged;  // malloc'd JSON object so far
    double work_ms, step_ms;
};
FastJob g_fast = {-1, nullptr, 0, 0};

char* merge_plain(const char* a, const char* b) noexcept {
    try {
        return dup_string(dash::merge_json(a ? a : "{}", b), nullptr);
    } catch (...) {
        return nullptr;
    }
}

bool pending_plain(const char* text, double out[4]) noexcept {
    try {
        dash::pending_counts(text, out);
        return true;
    } catch (...) {
        return false;
    }
}

bool fast_step(char* err, size_t errlen) {
    QueryArgs q{};
    q.sql = dashq::kFastStats[g_fast.next];
    q.read_only = true;
    q.probe = g_fast.next == 0;
    if (!run_query(&q, err, errlen) || q.result == nullptr) {
        free(q.result);
        return false;
    }
    if (q.probe) {
        g_has_places = q.has_places;
        g_has_thumbs = q.has_thumbs;
    }
    char* m = merge_plain(g_fast.merged, q.result);
    free(q.result);
    if (m == nullptr) return false;
    free(g_fast.merged);
    g_fast.merged = m;
    if (++g_fast.next < dashq::kFastSteps) return true;
    free(g_stats.fast);
    g_stats.fast = g_fast.merged;
    g_fast.merged = nullptr;
    g_fast.next = -1;
    // Trend samples: the four pending counts of our own JSON.
    double counts[4];
    if (pending_plain(g_stats.fast, counts)) {
        int slot = g_stats.trend_n % kTrendSamples;
        for (int i = 0; i < 4; i++) g_stats.trend[i][slot] = counts[i];
        g_stats.trend_n++;
    }
    return true;
}

}  // namespace

// Does at most one step of refresh work (the fast refresh is a job of
// kFastSteps queries, the slow one of kSlowChunks + 2; the fast one goes
// first): the loop serves requests in between.
// True while a job has steps left, so the loop comes back without waiting.
bool refresh_stats(bool force) {
    if (!g_catalog_ok) return false;
    TimestampTz now = GetCurrentTimestamp();
    char err[256];
    instr_time t0;
    if (force || (g_slow.next < 0 && (g_stats.slow == nullptr ||
                                      TimestampDifferenceExceeds(g_stats.slow_at, now, kSlowStatsMs)))) {
        g_slow = SlowJob{0, 0, 0, 0, 0};  // (re)started: a reload restarts it
        g_stats.slow_at = now;
    }
    if (force || (g_fast.next < 0 && (g_stats.fast == nullptr ||
                                      TimestampDifferenceExceeds(g_stats.fast_at, now, kFastStatsMs)))) {
        free(g_fast.merged);
        g_fast = FastJob{0, nullptr, 0, 0};
        g_stats.fast_at = now;
    }
    if (g_fast.next >= 0) {
        INSTR_TIME_SET_CURRENT(t0);
        bool ok = fast_step(err, sizeof err);
        double ms = ms_since(t0);
        g_fast.work_ms += ms;
        if (ms > g_fast.step_ms) g_fast.step_ms = ms;
        if (!ok) {
            free(g_fast.merged);
            g_fast = FastJob{-1, nullptr, 0, 0};  // tried again at the next period
        } else if (g_fast.next < 0) {
            g_stats.fast_ms = g_fast.work_ms;
            g_stats.fast_step_ms = g_fast.step_ms;
            g_stats.fast_runs++;
        }
        return g_fast.next >= 0 || g_slow.next >= 0;
    }
    if (g_slow.next < 0) return false;
    INSTR_TIME_SET_CURRENT(t0);
    bool ok = slow_step();
    double ms = ms_since(t0);
    g_slow.work_ms += ms;
    if (ms > g_slow.step_ms) g_slow.step_ms = ms;
    if (!ok) {
        g_slow.next = -1;  // tried again at the next period
        clear_slots();
    } else if (g_slow.next < 0) {
        g_stats.slow_ms = g_slow.work_ms;
        g_stats.slow_step_ms = g_slow.step_ms;
        g_stats.slow_runs++;
    }
    return g_slow.next >= 0;
}

// {"trend": {...}, "storage_free": n, "storage_total": n} as JSON text.
void extra_json(char* out, size_t outlen) {
    static const char* names[4] = {"geocoding", "thumbnails", "curation", "backup"};
    size_t pos = 0;
    pos += snprintf(out + pos, outlen - pos, "{\"trend\":{");
    int n = g_stats.trend_n < kTrendSamples ? g_stats.trend_n : kTrendSamples;
    for (int i = 0; i < 4 && pos < outlen; i++) {
        pos += snprintf(out + pos, outlen - pos, "%s\"%s\":[", i ? "," : "", names[i]);
        for (int k = 0; k < n && pos < outlen; k++) {
            int slot = (g_stats.trend_n - n + k) % kTrendSamples;
            pos += snprintf(out + pos, outlen - pos, "%s%.0f", k ? "," : "", g_stats.trend[i][slot]);
        }
        if (pos < outlen) pos += snprintf(out + pos, outlen - pos, "]");
    }
    struct statvfs sv;
    double free_b = 0, total_b = 0;
    if (guc_storage_dir && guc_storage_dir[0] && statvfs(guc_storage_dir, &sv) == 0) {
        free_b = static_cast<double>(sv.f_bavail) * sv.f_frsize;
        total_b = static_cast<double>(sv.f_blocks) * sv.f_frsize;
    }
    if (pos < outlen)
        snprintf(out + pos, outlen - pos,
                 "},\"storage_free\":%.0f,\"storage_total\":%.0f,\"refresh\":{\"fast_ms\":%.3f,\"slow_ms\":%.3f,"
                 "\"fast_step_ms\":%.3f,\"slow_step_ms\":%.3f,\"fast_runs\":%lld,\"slow_runs\":%lld}}",
                 free_b, total_b, g_stats.fast_ms, g_stats.slow_ms, g_stats.fast_step_ms, g_stats.slow_step_ms,
                 static_cast<long long>(g_stats.fast_runs), static_cast<long long>(g_stats.slow_runs));
}

}  // namespace pf::pg::dashw
