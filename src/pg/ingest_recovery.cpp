// Journal recovery: rows left by a crash between plan and finish are either
// finished (the file is at its destination) or dropped (it is still in the
// inbox); and the slot lock that tells a live librarian's rows from abandoned
// ones.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "core/errors.hpp"
#include "core/move_recovery.hpp"
#include "pg/advisory_locks.hpp"
#include "pg/boundary.hpp"
#include "pg/ingest.hpp"
#include "pg/worker.hpp"

namespace pf::pg {

namespace {

struct PendingRow {
    int64 id;
    char* source_rel;  // raw bytes (NUL-terminated; names cannot contain NUL)
    char* dest_rel;
    char* sha256;
    char* inbox_root;
    char* storage_root;
};

struct RecoveryList {
    int librarian;
    MemoryContext cxt;
    PendingRow* rows;
    int n;
};

void list_step(void* arg) {
    auto* l = static_cast<RecoveryList*>(arg);
    // Rows of a live librarian are in flight, not abandoned: skip them. The
    // probe is a transaction-level lock, gone at commit.
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT j.id, j.source_rel, j.dest_rel, coalesce(j.file_hash, ''::pg_catalog.text), j.inbox_root,"
             "       j.storage_root"
             "  FROM photofactory.ingest_journal j"
             " WHERE j.librarian OPERATOR(pg_catalog.=) %d::pg_catalog.int4"
             "    OR pg_catalog.pg_try_advisory_xact_lock_shared(%d::pg_catalog.int4, j.librarian)"
             " ORDER BY j.id",
             l->librarian, lock_class(LockClass::LibrarianSlot));
    int rc = SPI_execute(sql, false, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "journal scan failed");
    MemoryContext old = MemoryContextSwitchTo(l->cxt);
    l->n = static_cast<int>(SPI_processed);
    l->rows = static_cast<PendingRow*>(palloc0(sizeof(PendingRow) * (l->n + 1)));
    for (int i = 0; i < l->n; i++) {
        HeapTuple t = SPI_tuptable->vals[i];
        TupleDesc d = SPI_tuptable->tupdesc;
        bool isnull;
        l->rows[i].id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
        bytea* raw = DatumGetByteaPP(SPI_getbinval(t, d, 2, &isnull));
        size_t len = VARSIZE_ANY_EXHDR(raw);
        l->rows[i].source_rel = static_cast<char*>(palloc(len + 1));
        memcpy(l->rows[i].source_rel, VARDATA_ANY(raw), len);
        l->rows[i].source_rel[len] = '\0';
        l->rows[i].dest_rel = pstrdup(SPI_getvalue(t, d, 3));
        l->rows[i].sha256 = pstrdup(SPI_getvalue(t, d, 4));
        l->rows[i].inbox_root = pstrdup(SPI_getvalue(t, d, 5));
        l->rows[i].storage_root = pstrdup(SPI_getvalue(t, d, 6));
    }
    MemoryContextSwitchTo(old);
}

struct ResolveWork {
    const IngestTarget* target;
    PendingRow* row;
    bool finish;
    char final_rel[2048];
    char note[256];
};

void resolve_step(void* arg) {
    auto* r = static_cast<ResolveWork*>(arg);
    pf_core_call("recovering an interrupted move", [&]() {
        // Rows are resolved from open roots, never from paths built as text:
        // the current roots when the row names them, else the row's own (a
        // root is configured by the superuser; nothing below it is followed).
        struct Root {
            int fd = -1;
            bool own = false;
            Root(const char* dir, int current_fd, const char* current_dir) {
                if (strcmp(dir, current_dir) == 0) {
                    fd = current_fd;
                    return;
                }
                fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                own = fd >= 0;
            }
            ~Root() {
                if (own) close(fd);
            }
        };
        Root inbox(r->row->inbox_root, r->target->inbox_fd, r->target->inbox_dir);
        Root storage(r->row->storage_root, r->target->storage_fd, r->target->storage_dir);
        if (storage.fd < 0) throw pf::IoError("opening the library root of a journal row", errno);
        pf::InterruptedMove m;
        m.inbox_fd = inbox.fd;
        m.source_rel = r->row->source_rel;
        m.storage_fd = storage.fd;
        m.dest_rel = r->row->dest_rel;
        m.sha256 = r->row->sha256;
        pf::RecoveryDecision d = pf::resolve_interrupted_move(m);
        r->finish = d.finish;
        snprintf(r->final_rel, sizeof r->final_rel, "%s", d.final_rel.c_str());
        snprintf(r->note, sizeof r->note, "%s", d.note.c_str());
    });
}

void recovery_finish_step(void* arg) {
    auto* r = static_cast<ResolveWork*>(arg);
    Oid types[2] = {INT8OID, TEXTOID};
    Datum vals[2] = {Int64GetDatum(r->row->id), CStringGetTextDatum(r->final_rel)};
    if (SPI_execute_with_args("SELECT photofactory._journal_finish($1::pg_catalog.int8, $2::pg_catalog.text)", 2, types, vals, nullptr, false, 0) < 0)
        elog(ERROR, "journal update failed");
}

void recovery_drop_step(void* arg) {
    auto* r = static_cast<ResolveWork*>(arg);
    Oid types[1] = {INT8OID};
    Datum vals[1] = {Int64GetDatum(r->row->id)};
    if (SPI_execute_with_args("DELETE FROM photofactory.ingest_journal WHERE id OPERATOR(pg_catalog.=) $1::pg_catalog.int8",
                              1, types, vals, nullptr, false, 0) < 0)
        elog(ERROR, "journal update failed");
}

}  // namespace

int recover_journal(const IngestTarget& target) {
    RecoveryList list{target.librarian, AllocSetContextCreate(CurrentMemoryContext, "photofactory recovery",
                                                               ALLOCSET_DEFAULT_SIZES),
                      nullptr, 0};
    int resolved = 0;
    if (run_in_transaction("reading the ingest journal", list_step, &list)) {
        for (int i = 0; i < list.n; i++) {
            ResolveWork rw;
            memset(&rw, 0, sizeof rw);
            rw.target = &target;
            rw.row = &list.rows[i];
            if (!run_guarded("recovering an interrupted move", resolve_step, &rw, nullptr, 0)) continue;
            if (run_in_transaction(rw.finish ? "recovering journal entry" : "dropping journal entry",
                                   rw.finish ? recovery_finish_step : recovery_drop_step, &rw)) {
                resolved++;
                ereport(LOG, (errmsg("photofactory %s: recovered journal entry %lld (%s): %s", g_worker.label,
                                     static_cast<long long>(rw.row->id), rw.row->dest_rel, rw.note)));
            }
        }
    }
    MemoryContextDelete(list.cxt);
    return resolved;
}

bool try_lock_librarian_slot(int index) {
    struct Arg {
        int index;
        bool got;
    } a{index, false};
    auto fn = [](void* p) {
        auto* a = static_cast<Arg*>(p);
        a->got = try_session_lock(LockClass::LibrarianSlot, a->index);
    };
    return run_in_transaction("claiming librarian slot", fn, &a) && a.got;
}

}  // namespace pf::pg
