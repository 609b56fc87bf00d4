// The backup targets as one round sees them: the enabled rows read, each
// target opened and its marker checked (outside any transaction), the
// skipped and paused states (a failed write pauses a target until a retry
// succeeds), and what the round writes back to backup_targets and the status.
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "core/backup_target.hpp"
#include "pg/backup_state.hpp"
#include "pg/pg_headers.hpp"
#include "pg/worker.hpp"

namespace pf::pg::backup {
namespace {

// noexcept: nothing thrown crosses into PostgreSQL frames.
void open_target(Target* t) noexcept {
    t->fd = -1;
    t->usable = false;
    try {
        pf::MarkerCheck mc;
        t->fd = pf::open_backup_target(t->path, t->id, &mc);
        if (t->fd < 0) {
            snprintf(t->state, sizeof t->state, "skipped");
            snprintf(t->detail, sizeof t->detail, "%s: %s", pf::to_string(mc.state), mc.detail.c_str());
            t->cleaned = false;
            return;
        }
        t->usable = true;
        snprintf(t->state, sizeof t->state, "ok");
        t->detail[0] = '\0';
        if (!t->cleaned) {
            t->removed = pf::remove_backup_temporaries(t->fd);
            t->cleaned = true;
        }
    } catch (const std::exception& e) {
        if (t->fd >= 0) close(t->fd);
        t->fd = -1;
        t->usable = false;
        snprintf(t->state, sizeof t->state, "skipped");
        snprintf(t->detail, sizeof t->detail, "%s", e.what());
    } catch (...) {
        t->usable = false;
    }
}

}  // namespace

Target* find_target(const char* id) {
    for (int i = 0; i < g_ntargets; i++)
        if (strcmp(g_targets[i].id, id) == 0) return &g_targets[i];
    return nullptr;
}

void load_targets(void* arg) {
    auto* st = static_cast<LoadState*>(arg);
    st->extension_missing = !extension_ready();
    if (st->extension_missing) return;
    int rc = SPI_execute(
        "SELECT t.id::pg_catalog.text, t.name, t.path FROM photofactory.backup_targets t"
        " WHERE t.enabled ORDER BY t.name",
        true, kMaxTargets);
    if (rc != SPI_OK_SELECT) elog(ERROR, "reading backup targets failed");
    // Keep what we know of targets that stay (pause, clean-up) across rounds.
    static Target fresh[kMaxTargets];
    int n = 0;
    for (uint64 i = 0; i < SPI_processed && n < kMaxTargets; i++) {
        HeapTuple tup = SPI_tuptable->vals[i];
        TupleDesc td = SPI_tuptable->tupdesc;
        char* id = SPI_getvalue(tup, td, 1);
        Target* old = find_target(id);
        Target* t = &fresh[n++];
        if (old != nullptr) *t = *old;
        else memset(t, 0, sizeof *t);
        snprintf(t->id, sizeof t->id, "%s", id);
        snprintf(t->name, sizeof t->name, "%s", SPI_getvalue(tup, td, 2));
        snprintf(t->path, sizeof t->path, "%s", SPI_getvalue(tup, td, 3));
        t->fd = -1;
    }
    for (int i = 0; i < g_ntargets; i++)
        if (g_targets[i].fd >= 0) close(g_targets[i].fd);
    memcpy(g_targets, fresh, sizeof(Target) * n);
    g_ntargets = n;
    rc = SPI_execute("SELECT 1 FROM photofactory.backup_targets LIMIT 1", true, 1);
    g_any_target_row = rc == SPI_OK_SELECT && SPI_processed > 0;
}

void close_targets() {
    for (int i = 0; i < g_ntargets; i++) {
        if (g_targets[i].fd >= 0) close(g_targets[i].fd);
        g_targets[i].fd = -1;
        g_targets[i].usable = false;
    }
}

void probe_targets() {
    TimestampTz now = GetCurrentTimestamp();
    for (int i = 0; i < g_ntargets; i++) {
        Target* t = &g_targets[i];
        t->removed = 0;
        if (t->paused && now < t->paused_until) {
            t->usable = false;
            continue;
        }
        bool was_paused = t->paused;
        char why[512];
        snprintf(why, sizeof why, "%s", t->detail);
        open_target(t);
        if (t->usable && was_paused) {
            // Retried, but still paused until a copy succeeds (no ok/paused
            // flapping in the audit trail while the disk stays full).
            snprintf(t->state, sizeof t->state, "paused");
            snprintf(t->detail, sizeof t->detail, "%s", why);
        } else {
            t->paused = false;
        }
    }
}

void pause_target(Target* t, const char* why) {
    t->paused = true;
    t->paused_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), kPauseRetryMs);
    t->usable = false;
    if (t->fd >= 0) close(t->fd);
    t->fd = -1;
    snprintf(t->state, sizeof t->state, "paused");
    snprintf(t->detail, sizeof t->detail, "%s", why);
}

void write_target_states() {
    for (int i = 0; i < g_ntargets; i++) {
        Target* t = &g_targets[i];
        const char* v[3] = {t->id, t->state, t->detail[0] ? t->detail : nullptr};
        exec_args("SELECT photofactory._backup_target_state($1::pg_catalog.uuid, $2, $3)", 3, v, "target state");
        if (t->removed > 0) {
            char d[64];
            snprintf(d, sizeof d, "%d temporaries of an interrupted copy removed", t->removed);
            const char* w[3] = {t->id, "temporaries_removed", d};
            exec_args("SELECT photofactory._backup_note($1::pg_catalog.uuid, $2, $3)", 3, w, "backup note");
            t->removed = 0;
        }
    }
}

void mark_resumed(Target* t) {
    t->paused = false;
    snprintf(t->state, sizeof t->state, "ok");
    t->detail[0] = '\0';
    const char* v[3] = {t->id, "ok", nullptr};
    exec_args("SELECT photofactory._backup_target_state($1::pg_catalog.uuid, $2, $3)", 3, v, "target state");
}

void append_targets(char* buf, size_t len, bool* warn) {
    size_t used = strlen(buf);
    for (int i = 0; i < g_ntargets && used + 1 < len; i++) {
        Target* t = &g_targets[i];
        if (strcmp(t->state, "ok") == 0)
            snprintf(buf + used, len - used, "%s%s ok", i ? ", " : "", t->name);
        else {
            snprintf(buf + used, len - used, "%s%s %s (%s)", i ? ", " : "", t->name,
                     strcmp(t->state, "paused") == 0 ? "PAUSED" : "SKIPPED", t->detail);
            *warn = true;
        }
        used = strlen(buf);
    }
}


}  // namespace pf::pg::backup
