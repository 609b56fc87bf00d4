#include "pg/ingest.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "core/errors.hpp"
#include "core/filename_sanitize.hpp"
#include "core/inbox_file.hpp"
#include "core/json_writer.hpp"
#include "core/library_layout.hpp"
#include "core/move_recovery.hpp"
#include "core/safe_move.hpp"
#include "pg/boundary.hpp"
#include "pg/core_setup.hpp"
#include "pg/timezone.hpp"
#include "pg/worker.hpp"

namespace pf::pg {
namespace {

// Advisory-lock class for "librarian N is alive" (two-key form, so it cannot
// collide with the one-key hash locks below).
constexpr int32 kSlotLockClass = 1885693505;

enum ReadKind { kRead, kRejected, kUnstable, kVanished };

struct FileWork {
    const IngestTarget* target;
    const char* rel;
    const char* force_reject;
    // read step
    int kind;
    char reject_reason[32];
    char sha256[65];
    char date_folder[16];
    char safe_name[1024];
    char* details;  // palloc'd JSON: everything the ledger rows need
    // plan step
    int64 journal_id;
    char outcome[16];
    char asset_id[40];
    char dest_rel[2048];
    // move step
    char final_rel[2048];
    int move_errno;
};

void read_step(void* arg) {
    auto* w = static_cast<FileWork*>(arg);
    const pg_tz* zone = capture_zone();
    const char* zone_name = capture_zone_name(zone);
    w->details = pf_core_call_cstring("reading inbox file", [&]() {
        pf::ReadOptions opts;
        opts.utc_offset_for = utc_offset_minutes_in_zone;
        opts.utc_offset_ctx = const_cast<pg_tz*>(zone);
        opts.default_zone_name = zone_name;
        pf::InboxRead r;
        if (w->force_reject != nullptr) {
            r.outcome = pf::InboxRead::Outcome::Rejected;
            r.reason = pf::RejectReason::Unreadable;
            r.detail = w->force_reject;
        } else {
            r = pf::read_inbox_file(w->target->inbox_fd, w->rel, opts, true);
        }
        std::string rel(w->rel);
        std::string leaf = rel.substr(rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/') + 1);
        std::string safe = pf::sanitize_filename(leaf).name;
        snprintf(w->safe_name, sizeof w->safe_name, "%s", safe.c_str());

        pf::JsonObject j;
        j.add("original_name", safe);
        j.add("original_path", std::string(w->target->inbox_dir) + "/" + pf::sanitize_rel_path(rel));
        switch (r.outcome) {
            case pf::InboxRead::Outcome::Read: {
                const pf::AssetFacts& f = r.facts;
                w->kind = kRead;
                snprintf(w->sha256, sizeof w->sha256, "%s", f.sha256.c_str());
                snprintf(w->date_folder, sizeof w->date_folder, "%s", pf::date_folder(f.captured).c_str());
                j.add("file_hash", f.sha256);
                j.add("size_bytes", static_cast<int64_t>(f.size_bytes));
                j.add("captured_at", pf::format_sql_timestamp(f.captured));
                if (f.utc_offset_minutes) j.add("utc_offset_minutes", static_cast<int64_t>(*f.utc_offset_minutes));
                j.add("date_source", f.date_source);
                if (!f.zone_source.empty()) j.add("time_zone", pf::time_zone_label(f));
                if (f.utc_epoch) j.add("utc_epoch", *f.utc_epoch);
                if (f.motion_photo) j.add("motion_photo", true);
                j.add("media_kind", f.type.kind == pf::MediaKind::Video ? "video" : "image");
                j.add("media_format", f.type.format);
                if (f.location) {
                    pf::JsonObject loc;
                    loc.add("lat", f.location->lat).add("lon", f.location->lon);
                    j.add_raw("location", loc.str());
                }
                if (!f.metadata_errors.empty()) {
                    std::string msg = "metadata: ";
                    for (size_t i = 0; i < f.metadata_errors.size(); i++)
                        msg += (i ? "; " : "") + f.metadata_errors[i];
                    j.add("error_message", msg);
                }
                break;
            }
            case pf::InboxRead::Outcome::Rejected:
                w->kind = kRejected;
                snprintf(w->reject_reason, sizeof w->reject_reason, "%s", pf::to_string(r.reason));
                j.add("reason", std::string(pf::to_string(r.reason)) + ": " + r.detail);
                break;
            case pf::InboxRead::Outcome::Unstable:
                w->kind = kUnstable;
                j.add("reason", r.detail);
                break;
            case pf::InboxRead::Outcome::Vanished:
                w->kind = kVanished;
                break;
        }
        return j.str();
    });
}

// SPI helpers: one text parameter in, first column of the first row out.
bool spi_text1(const char* sql, const char* param, char* out, size_t outlen) {
    Oid type = TEXTOID;
    Datum v = CStringGetTextDatum(param);
    int rc = SPI_execute_with_args(sql, 1, &type, &v, nullptr, false, 1);
    if (rc < 0) elog(ERROR, "query failed (%s): %s", SPI_result_code_string(rc), sql);
    if (SPI_processed == 0) return false;
    if (out != nullptr) {
        char* s = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
        snprintf(out, outlen, "%s", s ? s : "");
    }
    return true;
}

bool exists_in_storage(int storage_fd, const char* rel) {
    struct stat st;
    return fstatat(storage_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 || (errno != ENOENT && errno != ENOTDIR);
}

void plan_step(void* arg) {
    auto* w = static_cast<FileWork*>(arg);
    char dest_dir[64];
    char dup_of[40] = "";
    if (w->kind == kRead) {
        // Serialises the duplicate decision per content, across librarians.
        spi_text1("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", w->sha256, nullptr, 0);
        if (spi_text1("SELECT id::text FROM photofactory.media_assets WHERE file_hash = $1", w->sha256, dup_of,
                      sizeof dup_of) ||
            spi_text1("SELECT asset_id::text FROM photofactory.ingest_journal"
                      " WHERE file_hash = $1 AND outcome = 'ingested' LIMIT 1",
                      w->sha256, dup_of, sizeof dup_of)) {
            snprintf(w->outcome, sizeof w->outcome, "duplicate");
            snprintf(w->asset_id, sizeof w->asset_id, "%s", dup_of);
            snprintf(dest_dir, sizeof dest_dir, "Duplicates/%s", w->date_folder);
        } else {
            snprintf(w->outcome, sizeof w->outcome, "ingested");
            spi_text1("SELECT gen_random_uuid()::text WHERE $1 IS NOT NULL", "x", w->asset_id, sizeof w->asset_id);
            snprintf(dest_dir, sizeof dest_dir, "Originals/%s", w->date_folder);
        }
    } else {
        char today[16];
        spi_text1("SELECT to_char(now(), 'YYYY-MM-DD') WHERE $1 IS NOT NULL", "x", today, sizeof today);
        snprintf(w->outcome, sizeof w->outcome, "rejected");
        w->asset_id[0] = '\0';
        snprintf(dest_dir, sizeof dest_dir, "Rejected/%s", today);
    }

    // A name free on disk and not promised to another in-flight move.
    for (int n = 0;; n++) {
        if (n > 9999) elog(ERROR, "no free name for \"%s\" in %s", w->safe_name, dest_dir);
        const char* safe = w->safe_name;
        char* cand = pf_core_call_cstring("naming", [&]() { return pf::collision_name(safe, n); });
        snprintf(w->dest_rel, sizeof w->dest_rel, "%s/%s", dest_dir, cand);
        pfree(cand);
        if (exists_in_storage(w->target->storage_fd, w->dest_rel)) continue;
        if (spi_text1("SELECT 1 FROM photofactory.ingest_journal WHERE dest_rel = $1", w->dest_rel, nullptr, 0))
            continue;
        break;
    }

    Oid types[7] = {INT4OID, TEXTOID, BYTEAOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
    Datum vals[7];
    char nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
    size_t rel_len = strlen(w->rel);
    bytea* raw = static_cast<bytea*>(palloc(VARHDRSZ + rel_len));
    SET_VARSIZE(raw, VARHDRSZ + rel_len);
    memcpy(VARDATA(raw), w->rel, rel_len);
    vals[0] = Int32GetDatum(w->target->librarian);
    vals[1] = CStringGetTextDatum(w->outcome);
    vals[2] = PointerGetDatum(raw);
    vals[3] = CStringGetTextDatum(w->dest_rel);
    vals[4] = CStringGetTextDatum(w->sha256);
    if (w->kind != kRead) nulls[4] = 'n';
    vals[5] = CStringGetTextDatum(w->asset_id);
    if (w->asset_id[0] == '\0') nulls[5] = 'n';
    vals[6] = CStringGetTextDatum(w->details);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO photofactory.ingest_journal"
             " (librarian, outcome, source_rel, dest_rel, file_hash, asset_id, details, inbox_root, storage_root)"
             " VALUES ($1, $2, $3, $4, $5, $6::uuid, $7::jsonb, %s, %s) RETURNING id",
             quote_literal_cstr(w->target->inbox_dir), quote_literal_cstr(w->target->storage_dir));
    int rc = SPI_execute_with_args(sql, 7, types, vals, nulls, false, 1);
    if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1) elog(ERROR, "journal insert failed");
    bool isnull;
    w->journal_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) close(fd);
    }
};

void move_step(void* arg) {
    auto* w = static_cast<FileWork*>(arg);
    w->move_errno = 0;
    pf_core_call("moving file", [&]() {
        try {
            std::string leaf;
            Fd src;
            src.fd = pf::open_parent_dir(w->target->inbox_fd, w->rel, &leaf);
            if (src.fd < 0) throw pf::IoError("opening the inbox folder", errno);
            std::string dest(w->dest_rel);
            size_t slash = dest.rfind('/');
            Fd dst;
            dst.fd = pf::ensure_dir_path(w->target->storage_fd, dest.substr(0, slash), true);
            pf::MoveResult r = pf::move_no_replace(src.fd, leaf, dst.fd, dest.substr(slash + 1), w->sha256, true);
            snprintf(w->final_rel, sizeof w->final_rel, "%s/%s", dest.substr(0, slash).c_str(), r.final_name.c_str());
        } catch (const pf::IoError& e) {
            w->move_errno = e.err;
            throw;
        }
    });
}

struct JournalCall {
    int64 id;
    const char* final_rel;  // null: roll back (delete the row)
};

void journal_finish_step(void* arg) {
    auto* j = static_cast<JournalCall*>(arg);
    Oid types[2] = {INT8OID, TEXTOID};
    Datum vals[2] = {Int64GetDatum(j->id), j->final_rel ? CStringGetTextDatum(j->final_rel) : (Datum)0};
    int rc;
    if (j->final_rel != nullptr)
        rc = SPI_execute_with_args("SELECT photofactory._journal_finish($1, $2)", 2, types, vals, nullptr, false, 0);
    else
        rc = SPI_execute_with_args("DELETE FROM photofactory.ingest_journal WHERE id = $1", 1, types, vals, nullptr,
                                   false, 0);
    if (rc < 0) elog(ERROR, "journal update failed: %s", SPI_result_code_string(rc));
}

}  // namespace

const char* to_string(IngestResult r) {
    switch (r) {
        case IngestResult::Ingested: return "ingested";
        case IngestResult::Duplicate: return "duplicate";
        case IngestResult::Rejected: return "rejected";
        case IngestResult::Unstable: return "unstable";
        case IngestResult::Vanished: return "vanished";
        case IngestResult::Failed: return "failed";
    }
    return "failed";
}

void ingest_one(const IngestTarget& target, const char* rel_path, IngestOutcome* out, const char* force_reject) {
    // Everything one file needs lives in one context, emptied for the next
    // file: each transaction commit switches back to TopMemoryContext, where
    // anything allocated would otherwise pile up for the life of the worker.
    static MemoryContext file_cxt = nullptr;
    if (file_cxt == nullptr)
        file_cxt = AllocSetContextCreate(TopMemoryContext, "photofactory file", ALLOCSET_DEFAULT_SIZES);
    MemoryContextReset(file_cxt);

    memset(out, 0, sizeof *out);
    FileWork* w = static_cast<FileWork*>(MemoryContextAllocZero(file_cxt, sizeof(FileWork)));
    w->target = &target;
    w->rel = rel_path;
    w->force_reject = force_reject;

    MemoryContext caller = MemoryContextSwitchTo(file_cxt);
    bool read_ok = run_guarded("reading file", read_step, w, out->reason, sizeof out->reason);
    MemoryContextSwitchTo(caller);
    if (!read_ok) {
        out->result = IngestResult::Failed;
        return;
    }
    flush_core_log();
    if (w->kind == kVanished) {
        out->result = IngestResult::Vanished;
        return;
    }
    if (w->kind == kUnstable) {
        out->result = IngestResult::Unstable;
        snprintf(out->reason, sizeof out->reason, "changed while being read");
        return;
    }
    if (!run_in_transaction("planning ingest", plan_step, w, out->reason, sizeof out->reason)) {
        out->result = IngestResult::Failed;
        return;
    }
    if (!run_guarded("moving file", move_step, w, out->reason, sizeof out->reason)) {
        out->result = IngestResult::Failed;
        out->disk_full = w->move_errno == ENOSPC || w->move_errno == EDQUOT || w->move_errno == EROFS;
        JournalCall undo{w->journal_id, nullptr};
        run_in_transaction("rolling back journal entry", journal_finish_step, &undo);
        return;
    }
    JournalCall done{w->journal_id, w->final_rel};
    if (!run_in_transaction("recording ingest", journal_finish_step, &done, out->reason, sizeof out->reason)) {
        // The file is safely at its destination and the journal row still says
        // so: recovery records it (the next recover_journal call retries).
        out->result = IngestResult::Failed;
        return;
    }
    out->result = strcmp(w->outcome, "ingested") == 0   ? IngestResult::Ingested
                  : strcmp(w->outcome, "duplicate") == 0 ? IngestResult::Duplicate
                                                         : IngestResult::Rejected;
    snprintf(out->asset_id, sizeof out->asset_id, "%s", w->asset_id);
    snprintf(out->stored_path, sizeof out->stored_path, "%s/%s", target.storage_dir, w->final_rel);
    if (w->kind == kRejected)
        snprintf(out->reason, sizeof out->reason, "%s", force_reject ? force_reject : w->reject_reason);
}

// ---------------------------------------------------------------- recovery

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
             "SELECT id, source_rel, dest_rel, coalesce(file_hash, ''), inbox_root, storage_root"
             "  FROM photofactory.ingest_journal"
             " WHERE librarian = %d OR pg_try_advisory_xact_lock_shared(%d, librarian)"
             " ORDER BY id",
             l->librarian, kSlotLockClass);
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
    PendingRow* row;
    bool finish;
    char final_rel[2048];
    char note[256];
};

void resolve_step(void* arg) {
    auto* r = static_cast<ResolveWork*>(arg);
    pf_core_call("recovering an interrupted move", [&]() {
        pf::InterruptedMove m{r->row->inbox_root, r->row->source_rel, r->row->storage_root, r->row->dest_rel,
                              r->row->sha256};
        pf::RecoveryDecision d = pf::resolve_interrupted_move(m);
        r->finish = d.finish;
        snprintf(r->final_rel, sizeof r->final_rel, "%s", d.final_rel.c_str());
        snprintf(r->note, sizeof r->note, "%s", d.note.c_str());
    });
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
            rw.row = &list.rows[i];
            if (!run_guarded("recovering an interrupted move", resolve_step, &rw, nullptr, 0)) continue;
            JournalCall call{rw.row->id, rw.finish ? rw.final_rel : nullptr};
            if (run_in_transaction("recovering journal entry", journal_finish_step, &call)) {
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
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%d, %d)", kSlotLockClass, a->index);
        if (SPI_execute(sql, false, 1) != SPI_OK_SELECT) elog(ERROR, "slot lock query failed");
        bool isnull;
        a->got = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    };
    return run_in_transaction("claiming librarian slot", fn, &a) && a.got;
}

}  // namespace pf::pg
