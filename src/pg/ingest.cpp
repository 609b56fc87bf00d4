#include "pg/ingest.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "core/unique_fd.hpp"
#include "core/batch_plan.hpp"
#include "core/companions.hpp"
#include "core/errors.hpp"
#include "core/filename_sanitize.hpp"
#include "core/inbox_file.hpp"
#include "core/json_writer.hpp"
#include "core/library_layout.hpp"
#include "core/move_recovery.hpp"
#include "core/safe_move.hpp"
#include "pg/boundary.hpp"
#include "pg/core_setup.hpp"
#include "pg/gucs.hpp"
#include "pg/timezone.hpp"
#include "pg/worker.hpp"

namespace pf::pg {
namespace {

// Advisory-lock class for "librarian N is alive" (two-key form, so it cannot
// collide with the one-key hash locks below).
constexpr int32 kSlotLockClass = 1885693505;

enum ReadKind { kRead, kRejected, kUnstable, kVanished, kSidecar };

// One file's way through a batch. Plain C data only: PostgreSQL errors may
// longjmp over any frame that touches it.
struct FileWork {
    const IngestTarget* target;
    const char* rel;
    const char* force_reject;
    IngestOutcome* out;
    bool active;  // still on its way; false once its outcome is final
    // read step
    int kind;
    char reject_reason[32];
    pf::FileIdentity identity;  // the entry as read: the move insists on finding it
    char sha256[65];
    char date_folder[16];
    char safe_name[1024];
    char* details;  // palloc'd JSON (batch context): everything the ledger rows need
    const char* group_key;  // companion key (pf::inbox_companion_key)
    bool may_wait;    // a sidecar still inside photofactory.sidecar_wait
    // facts the plan needs (media)
    bool video;
    char format[16];
    pf::LocalDateTime captured;
    bool has_offset;
    int offset;
    char date_source[24];
    // plan step
    char patch[8192];  // JSON merged into details: group, companion, re-dating
    int64 journal_id;
    char outcome[16];
    char asset_id[40];
    char dest_rel[2048];
    // move step
    bool moved;
    char final_rel[2048];
    int move_errno;
    bool move_unstable;    // the entry changed since it was read: it waits
    bool storage_blocked;  // the library cannot take files now: pause, do not count
};

struct ItemSet {
    FileWork** items;
    int n;
};

void fail(FileWork* w, IngestResult r, const char* fmt, ...) pg_attribute_printf(3, 4);
void fail(FileWork* w, IngestResult r, const char* fmt, ...) {
    w->active = false;
    w->out->result = r;
    char buf[sizeof w->out->reason];  // the arguments may point into out->reason itself
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    memcpy(w->out->reason, buf, sizeof buf);
}

void read_step(void* arg) {
    auto* w = static_cast<FileWork*>(arg);
    const pg_tz* zone = capture_zone();
    const char* zone_name = capture_zone_name(zone);
    w->details = pf_core_call_cstring("reading inbox file", [&]() {
        pf::ReadOptions opts;
        opts.utc_offset_for = utc_offset_minutes_in_zone;
        opts.utc_offset_ctx = const_cast<pg_tz*>(zone);
        opts.default_zone_name = zone_name;
        opts.max_bytes = max_file_size_bytes();
        opts.cancelled = core_should_stop;
        pf::InboxRead r;
        if (w->force_reject != nullptr) {
            r.outcome = pf::InboxRead::Outcome::Rejected;
            r.reason = pf::RejectReason::Unreadable;
            r.detail = w->force_reject;
            r.identity = pf::entry_identity(w->target->inbox_fd, w->rel);
        } else {
            // The bytes are made durable for the whole batch at once, later.
            try {
                r = pf::read_inbox_file(w->target->inbox_fd, w->rel, opts, pf::DataSync::StartWriteback);
            } catch (const pf::Cancelled&) {
                // Stopping (shutdown, cancel): not the file's fault; it waits.
                r.outcome = pf::InboxRead::Outcome::Unstable;
                r.detail = "reading was interrupted";
            }
        }
        w->identity = r.identity;
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
                w->video = f.type.kind == pf::MediaKind::Video;
                snprintf(w->format, sizeof w->format, "%s", f.type.format.c_str());
                w->captured = f.captured;
                w->has_offset = f.utc_offset_minutes.has_value();
                w->offset = f.utc_offset_minutes.value_or(0);
                snprintf(w->date_source, sizeof w->date_source, "%s", f.date_source.c_str());
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
            case pf::InboxRead::Outcome::Rejected: {
                // Not media, but maybe a sidecar of media: hashed, and planned with its group.
                pf::SidecarKind sk = pf::sidecar_kind(leaf);
                if (w->force_reject == nullptr && r.reason == pf::RejectReason::NotMedia && sk != pf::SidecarKind::None) {
                    try {
                        pf::SidecarFacts sf = pf::read_sidecar(w->target->inbox_fd, rel);
                        w->kind = kSidecar;
                        snprintf(w->sha256, sizeof w->sha256, "%s", sf.sha256.c_str());
                        j.add("file_hash", sf.sha256);
                        j.add("size_bytes", static_cast<int64_t>(sf.size_bytes));
                        j.add("sidecar_kind", pf::to_string(sk));
                        break;
                    } catch (const pf::RejectError& e) {
                        if (e.reason == pf::RejectReason::Unstable) {
                            w->kind = kUnstable;
                            break;
                        }
                        r.reason = e.reason;
                        r.detail = e.detail;
                    } catch (const pf::IoError& e) {
                        r.reason = pf::RejectReason::Unreadable;
                        r.detail = e.what();
                    }
                }
                w->kind = kRejected;
                snprintf(w->reject_reason, sizeof w->reject_reason, "%s", pf::to_string(r.reason));
                j.add("reason", std::string(pf::to_string(r.reason)) + ": " + r.detail);
                break;
            }
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
    if (w->group_key == nullptr)
        w->group_key = pf_core_call_cstring("reading inbox file", [&]() { return pf::inbox_companion_key(w->rel); });
}

// Makes the bytes of every file read durable before any of them moves (the
// writeback started while reading): one syncfs for the batch.
struct SyncArg {
    ItemSet set;
    int* errs;
};

void data_sync_step(void* arg) {
    auto* a = static_cast<SyncArg*>(arg);
    pf_core_call("making inbox files durable", [a] {
        std::vector<std::string> rels;
        for (int i = 0; i < a->set.n; i++) rels.emplace_back(a->set.items[i]->rel);
        std::vector<int> errs = pf::sync_inbox_files(a->set.items[0]->target->inbox_fd, rels);
        for (int i = 0; i < a->set.n; i++) a->errs[i] = errs[i];
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


Datum cstring_array(const char* const* vals, const bool* nulls, int n, Oid elemtype) {
    Datum* d = static_cast<Datum*>(palloc0(sizeof(Datum) * (n + 1)));
    for (int i = 0; i < n; i++) {
        if (nulls != nullptr && nulls[i]) continue;
        if (elemtype == BYTEAOID) {
            size_t len = strlen(vals[i]);
            bytea* raw = static_cast<bytea*>(palloc(VARHDRSZ + len));
            SET_VARSIZE(raw, VARHDRSZ + len);
            memcpy(VARDATA(raw), vals[i], len);
            d[i] = PointerGetDatum(raw);
        } else {
            d[i] = CStringGetTextDatum(vals[i]);
        }
    }
    int dims[1] = {n};
    int lbs[1] = {1};
    bool* nl = static_cast<bool*>(palloc0(sizeof(bool) * (n + 1)));
    if (nulls != nullptr) memcpy(nl, nulls, sizeof(bool) * n);
    return PointerGetDatum(construct_md_array(d, nl, 1, dims, lbs, elemtype, -1, false, TYPALIGN_INT));
}

void new_uuid(char* out, size_t outlen) {
    uint8 b[16];
    if (!pg_strong_random(b, sizeof b)) elog(ERROR, "could not generate a random UUID");
    b[6] = static_cast<uint8>((b[6] & 0x0f) | 0x40);  // version 4
    b[8] = static_cast<uint8>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
    snprintf(out, outlen, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

// Rows of the first column (and more) of an SPI result, copied by the caller.
char* spi_cell(uint64 row, int col) {
    return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}

// Runs a query with one parameter; its rows as text cells (SPI memory, valid
// until the step ends; NULL cells are null pointers).
char*** spi_rows(const char* sql, Oid type, Datum arg, int ncols, const char* what, int* nrows) {
    int rc = SPI_execute_with_args(sql, 1, &type, &arg, nullptr, false, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "%s failed: %s", what, SPI_result_code_string(rc));
    *nrows = static_cast<int>(SPI_processed);
    char*** rows = static_cast<char***>(palloc0(sizeof(char**) * (*nrows + 1)));
    for (int r = 0; r < *nrows; r++) {
        rows[r] = static_cast<char**>(palloc0(sizeof(char*) * (ncols + 1)));
        for (int c = 0; c < ncols; c++) rows[r][c] = spi_cell(r, c + 1);
    }
    return rows;
}

// Plans a set of files in one transaction: what becomes of each (core
// plan_batch: duplicates, companions, sidecars, names), and one journal row
// per file that moves, committed together.
void plan_step(void* arg) {
    auto* set = static_cast<ItemSet*>(arg);
    const int n = set->n;
    const IngestTarget* target = set->items[0]->target;

    // Content already known: in the ledger, or promised by an in-flight move.
    // The per-hash advisory locks serialise this decision across librarians;
    // taken in key order, two batches can never deadlock on them.
    const char** hashes = static_cast<const char**>(palloc0(sizeof(char*) * (n + 1)));
    const char** keys = static_cast<const char**>(palloc0(sizeof(char*) * (n + 1)));
    int nh = 0;
    for (int i = 0; i < n; i++) {
        keys[i] = set->items[i]->group_key;
        if (set->items[i]->kind == kRead || set->items[i]->kind == kSidecar) hashes[nh++] = set->items[i]->sha256;
    }

    int nknown = 0, nside = 0, nanch = 0, nres = 0;
    char*** known = nullptr;  // file_hash, asset id
    char*** side = nullptr;   // asset id, file_hash
    if (nh > 0) {
        Datum arr = cstring_array(hashes, nullptr, nh, TEXTOID);
        // Worker SQL names every function, operator and type with its schema
        // and casts literals to the exact signature (docs/architecture.md,
        // "Privileges"): nothing here may resolve to an object a database
        // owner planted.
        spi_rows("SELECT pg_catalog.pg_advisory_xact_lock(s.k) FROM"
                 " (SELECT DISTINCT pg_catalog.hashtextextended(u.h, 0::pg_catalog.int8) AS k"
                 "    FROM pg_catalog.unnest($1::pg_catalog.text[]) AS u(h)) s ORDER BY s.k",
                 TEXTARRAYOID, arr, 0, "hash locks", &nknown);
        known = spi_rows("SELECT m.file_hash::pg_catalog.text, m.id::pg_catalog.text FROM photofactory.media_assets m"
                         " WHERE m.file_hash OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])"
                         " UNION ALL SELECT j.file_hash, j.asset_id::pg_catalog.text FROM photofactory.ingest_journal j"
                         " WHERE j.file_hash OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])"
                         "   AND j.outcome OPERATOR(pg_catalog.=) 'ingested'::pg_catalog.text",
                         TEXTARRAYOID, arr, 2, "duplicate lookup", &nknown);
        side = spi_rows("SELECT s.asset_id::pg_catalog.text, s.file_hash::pg_catalog.text FROM photofactory.asset_sidecars s"
                        " WHERE s.file_hash OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])"
                        " UNION ALL SELECT j.asset_id::pg_catalog.text, j.file_hash FROM photofactory.ingest_journal j"
                        " WHERE j.file_hash OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])"
                        "   AND j.outcome OPERATOR(pg_catalog.=) 'sidecar'::pg_catalog.text",
                        TEXTARRAYOID, arr, 2, "sidecar lookup", &nside);
    }
    // Leaders stored earlier that late companions may join (recent ones: a
    // sidecar or video arriving a month later is not a companion).
    char*** anch = spi_rows(  // key, id, final_path, original_name, captured_at, offset, date_source
        "SELECT m.group_key, m.id::pg_catalog.text, m.final_path, m.original_name::pg_catalog.text,"
        "       m.captured_at::pg_catalog.text, m.utc_offset_minutes::pg_catalog.text, m.date_source"
        "  FROM photofactory.media_assets m"
        " WHERE m.group_key OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[]) AND m.companion_of IS NULL"
        "   AND m.ingested_at OPERATOR(pg_catalog.>)"
        "       (pg_catalog.now() OPERATOR(pg_catalog.-) '30 days'::pg_catalog.interval)"
        " ORDER BY m.ingested_at DESC",
        TEXTARRAYOID, cstring_array(keys, nullptr, n, TEXTOID), 7, "companion lookup", &nanch);
    // Names promised to in-flight moves (the journal is small: only moves in flight).
    char*** reserved = spi_rows("SELECT j.dest_rel FROM photofactory.ingest_journal j"
                                " WHERE j.storage_root OPERATOR(pg_catalog.=) $1::pg_catalog.text", TEXTOID,
                                CStringGetTextDatum(target->storage_dir), 1, "journal scan", &nres);
    char today[16] = "";
    spi_text1("SELECT pg_catalog.to_char(pg_catalog.now(), 'YYYY-MM-DD'::pg_catalog.text) WHERE $1 IS NOT NULL", "x",
              today, sizeof today);
    char (*ids)[40] = static_cast<char (*)[40]>(palloc0(sizeof(char[40]) * (n + 1)));
    for (int i = 0; i < n; i++) new_uuid(ids[i], sizeof ids[i]);

    // The decisions: pure core code over plain inputs, results into FileWork.
    const char* storage_dir = target->storage_dir;
    pf_core_call("planning ingest", [&]() {
        pf::PlanInput in;
        for (int i = 0; i < n; i++) {
            const FileWork* w = set->items[i];
            pf::PlanFile f;
            f.kind = w->kind == kRead      ? pf::PlanFile::Kind::Media
                     : w->kind == kSidecar ? pf::PlanFile::Kind::Sidecar
                                           : pf::PlanFile::Kind::Reject;
            f.key = w->group_key;
            f.name = w->safe_name;
            f.sha256 = w->sha256;
            f.video = w->video;
            f.format = w->format;
            f.captured = w->captured;
            if (w->has_offset) f.utc_offset_minutes = w->offset;
            f.date_source = w->date_source;
            f.may_wait = w->may_wait;
            in.files.push_back(f);
            in.new_ids.emplace_back(ids[i]);
        }
        for (int k = 0; k < nknown; k++) in.known.push_back({known[k][0], known[k][1]});
        for (int k = 0; k < nside; k++) in.known_sidecars.push_back({side[k][0], side[k][1]});
        const std::string root = std::string(storage_dir) + "/";
        for (int k = 0; k < nanch; k++) {
            char** r = anch[k];
            std::string path = r[2] ? r[2] : "";
            if (r[4] == nullptr || path.compare(0, root.size(), root) != 0) continue;  // stored elsewhere
            auto captured = pf::parse_exif_datetime(r[4]);
            if (!captured) continue;
            pf::Anchor a;
            a.key = r[0];
            a.asset_id = r[1];
            std::string rel = path.substr(root.size());
            size_t slash = rel.rfind('/');
            a.dir = rel.substr(0, slash);
            std::string final_stem = pf::split_name(rel.substr(slash + 1), false).stem;
            a.stem = pf::split_name(r[3] ? r[3] : "", false).stem;
            if (final_stem.size() > a.stem.size() && final_stem.compare(0, a.stem.size(), a.stem) == 0)
                a.suffix = final_stem.substr(a.stem.size());
            a.captured = *captured;
            if (r[5]) a.utc_offset_minutes = atoi(r[5]);
            a.date_source = r[6] ? r[6] : "";
            in.anchors.push_back(a);
        }
        for (int k = 0; k < nres; k++) in.reserved.emplace_back(reserved[k][0]);
        in.today = today;

        std::vector<pf::PlanDecision> ds = pf::plan_batch(target->storage_fd, in);
        for (int i = 0; i < n; i++) {
            FileWork* w = set->items[i];
            const pf::PlanDecision& d = ds[static_cast<size_t>(i)];
            snprintf(w->outcome, sizeof w->outcome, "%s", pf::to_string(d.outcome));
            snprintf(w->asset_id, sizeof w->asset_id, "%s", d.asset_id.c_str());
            snprintf(w->dest_rel, sizeof w->dest_rel, "%s", d.dest_rel.c_str());
            pf::JsonObject patch;
            if (w->kind == kRead || w->kind == kSidecar) patch.add("group_key", d.group_key);
            if (!d.companion_of.empty()) patch.add("companion_of", d.companion_of);
            if (d.captured) {
                patch.add("captured_at", pf::format_sql_timestamp(*d.captured));
                patch.add("utc_offset_minutes", static_cast<int64_t>(d.utc_offset_minutes.value_or(0)));
                patch.add("time_zone", "paired");
            }
            if (!d.reason.empty()) patch.add("reason", d.reason);
            std::string ps = patch.str();
            if (ps.size() >= sizeof w->patch) ps = "{}";
            snprintf(w->patch, sizeof w->patch, "%s", ps.c_str());
        }
    });

    // One journal row per file that moves, all in one statement.
    const char** outcomes = static_cast<const char**>(palloc0(sizeof(char*) * (n + 1)));
    const char** sources = static_cast<const char**>(palloc0(sizeof(char*) * (n + 1)));
    const char** dests = static_cast<const char**>(palloc0(sizeof(char*) * (n + 1)));
    const char** fhashes = static_cast<const char**>(palloc0(sizeof(char*) * (n + 1)));
    const char** assets = static_cast<const char**>(palloc0(sizeof(char*) * (n + 1)));
    const char** details = static_cast<const char**>(palloc0(sizeof(char*) * (n + 1)));
    const char** patches = static_cast<const char**>(palloc0(sizeof(char*) * (n + 1)));
    bool* hash_null = static_cast<bool*>(palloc0(sizeof(bool) * (n + 1)));
    bool* asset_null = static_cast<bool*>(palloc0(sizeof(bool) * (n + 1)));
    int m = 0;
    for (int i = 0; i < n; i++) {
        FileWork* w = set->items[i];
        if (strcmp(w->outcome, "wait") == 0) continue;
        outcomes[m] = w->outcome;
        sources[m] = w->rel;
        dests[m] = w->dest_rel;
        fhashes[m] = w->sha256;
        hash_null[m] = w->kind != kRead && w->kind != kSidecar;
        assets[m] = w->asset_id;
        asset_null[m] = w->asset_id[0] == '\0' || strcmp(w->outcome, "rejected") == 0;
        details[m] = w->details;
        patches[m] = w->patch;
        m++;
    }
    if (m == 0) return;
    Oid types[10] = {INT4OID, TEXTARRAYOID, BYTEAARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
                     TEXTARRAYOID, TEXTARRAYOID, TEXTOID, TEXTOID, TEXTARRAYOID};
    Datum vals[10] = {Int32GetDatum(target->librarian),
                      cstring_array(outcomes, nullptr, m, TEXTOID),
                      cstring_array(sources, nullptr, m, BYTEAOID),
                      cstring_array(dests, nullptr, m, TEXTOID),
                      cstring_array(fhashes, hash_null, m, TEXTOID),
                      cstring_array(assets, asset_null, m, TEXTOID),
                      cstring_array(details, nullptr, m, TEXTOID),
                      CStringGetTextDatum(target->inbox_dir),
                      CStringGetTextDatum(target->storage_dir),
                      cstring_array(patches, nullptr, m, TEXTOID)};
    int rc = SPI_execute_with_args(
        "INSERT INTO photofactory.ingest_journal"
        " (librarian, outcome, source_rel, dest_rel, file_hash, asset_id, details, inbox_root, storage_root)"
        " SELECT $1, u.outcome, u.src, u.dest, u.hash, u.asset::pg_catalog.uuid,"
        "        u.det::pg_catalog.jsonb OPERATOR(pg_catalog.||) u.patch::pg_catalog.jsonb, $8, $9"
        // ROWS FROM: the multi-argument unnest(a, b, ...) shorthand only
        // exists unqualified.
        "   FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.text[]), pg_catalog.unnest($3::pg_catalog.bytea[]),"
        "                   pg_catalog.unnest($4::pg_catalog.text[]), pg_catalog.unnest($5::pg_catalog.text[]),"
        "                   pg_catalog.unnest($6::pg_catalog.text[]), pg_catalog.unnest($7::pg_catalog.text[]),"
        "                   pg_catalog.unnest($10::pg_catalog.text[]))"
        "        WITH ORDINALITY AS u(outcome, src, dest, hash, asset, det, patch, ord)"
        "  ORDER BY u.ord"
        " RETURNING id, dest_rel",
        10, types, vals, nullptr, false, 0);
    if (rc != SPI_OK_INSERT_RETURNING || static_cast<int>(SPI_processed) != m)
        elog(ERROR, "journal insert failed: %s", SPI_result_code_string(rc));
    for (uint64 r = 0; r < SPI_processed; r++) {
        bool isnull;
        int64 id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
        char* dest = spi_cell(r, 2);
        for (int i = 0; i < n; i++)
            if (strcmp(set->items[i]->dest_rel, dest) == 0) set->items[i]->journal_id = id;
    }
}

using Fd = pf::UniqueFd;

// Moves one file. Folders are fsynced afterwards, once per batch (dirsync_step).
void move_step(void* arg) {
    auto* w = static_cast<FileWork*>(arg);
    w->move_errno = 0;
    w->move_unstable = false;
    w->storage_blocked = false;
    pf_core_call("moving file", [&]() {
        Fd dst;
        try {
            std::string leaf;
            Fd src;
            src.fd = pf::open_parent_dir(w->target->inbox_fd, w->rel, &leaf);
            if (src.fd < 0) throw pf::IoError("opening the inbox folder", errno);
            std::string dest(w->dest_rel);
            size_t slash = dest.rfind('/');
            dst.fd = pf::ensure_dir_path(w->target->storage_fd, dest.substr(0, slash), true,
                                         static_cast<mode_t>(storage_dir_mode()));
            pf::MoveOptions o;
            o.expected_sha256 = w->sha256;
            o.expect = w->identity;
            // A hard link's other names are outside our control: the library
            // gets its own verified copy, never a shared inode.
            o.copy = (w->kind == kRead || w->kind == kSidecar) && w->identity.nlink > 1;
            o.file_mode = static_cast<mode_t>(storage_file_mode());
            pf::MoveResult r = pf::move_no_replace(src.fd, leaf, dst.fd, dest.substr(slash + 1), o);
            snprintf(w->final_rel, sizeof w->final_rel, "%s/%s", dest.substr(0, slash).c_str(), r.final_name.c_str());
        } catch (const pf::RejectError& e) {
            w->move_unstable = e.reason == pf::RejectReason::Unstable;
            throw;
        } catch (const pf::IoError& e) {
            w->move_errno = e.err;
            // Whose problem is it? A library folder the server may not write
            // (or create) stops every file alike: pause, like a full disk.
            // Only what concerns the file itself counts toward rejecting it.
            bool denied = e.err == EACCES || e.err == EPERM;
            w->storage_blocked = e.err == ENOSPC || e.err == EDQUOT || e.err == EROFS ||
                                 (denied && (dst.fd < 0 || faccessat(dst.fd, ".", W_OK | X_OK, AT_EACCESS) != 0));
            throw;
        }
    });
}

// fsyncs every folder a file of the set left or entered, each once.
void dirsync_step(void* arg) {
    auto* set = static_cast<ItemSet*>(arg);
    pf_core_call("making moves durable", [set] {
        std::vector<std::pair<int, std::string>> done;
        auto sync_once = [&](int root, std::string dir) {
            for (const auto& d : done)
                if (d.first == root && d.second == dir) return;
            int e = pf::fsync_rel_dir(root, dir);
            if (e != 0) throw pf::IoError("fsync of folder " + dir, e);
            done.emplace_back(root, std::move(dir));
        };
        for (int i = 0; i < set->n; i++) {
            const FileWork* w = set->items[i];
            std::string src(w->rel), dst(w->final_rel);
            size_t s = src.rfind('/'), d = dst.rfind('/');
            sync_once(w->target->storage_fd, d == std::string::npos ? std::string() : dst.substr(0, d));
            sync_once(w->target->inbox_fd, s == std::string::npos ? std::string() : src.substr(0, s));
        }
    });
}

struct FinishArg {
    ItemSet set;
    bool finish;  // true: record the moves; false: drop the journal rows (nothing moved)
};

void finish_step(void* arg) {
    auto* a = static_cast<FinishArg*>(arg);
    const int n = a->set.n;
    Datum* ids = static_cast<Datum*>(palloc0(sizeof(Datum) * (n + 1)));
    const char** finals = static_cast<const char**>(palloc0(sizeof(char*) * (n + 1)));
    for (int i = 0; i < n; i++) {
        ids[i] = Int64GetDatum(a->set.items[i]->journal_id);
        finals[i] = a->set.items[i]->final_rel;
    }
    Oid types[2] = {INT8ARRAYOID, TEXTARRAYOID};
    Datum vals[2] = {PointerGetDatum(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)),
                     a->finish ? cstring_array(finals, nullptr, n, TEXTOID) : (Datum)0};
    int rc = a->finish ? SPI_execute_with_args("SELECT photofactory._journal_finish_many($1::pg_catalog.int8[], $2::pg_catalog.text[])", 2, types, vals,
                                               nullptr, false, 0)
                       : SPI_execute_with_args("DELETE FROM photofactory.ingest_journal"
                                               " WHERE id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.int8[])", 1,
                                               types, vals, nullptr, false, 0);
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
        case IngestResult::Sidecar: return "sidecar";
        case IngestResult::Waiting: return "waiting";
    }
    return "failed";
}

namespace {

// The files of `all` still on their way.
ItemSet active_items(FileWork* all, int n, FileWork** buf) {
    int k = 0;
    for (int i = 0; i < n; i++)
        if (all[i].active) buf[k++] = &all[i];
    return ItemSet{buf, k};
}

}  // namespace

void ingest_batch(const IngestTarget& target, const BatchFile* reqs, int n, IngestOutcome* outs) {
    // Everything a batch needs lives in one context, emptied for the next:
    // each commit switches back to TopMemoryContext, where anything allocated
    // would otherwise pile up for the life of the worker.
    static MemoryContext batch_cxt = nullptr;
    if (batch_cxt == nullptr)
        batch_cxt = AllocSetContextCreate(TopMemoryContext, "photofactory batch", ALLOCSET_DEFAULT_SIZES);
    MemoryContextReset(batch_cxt);
    if (n <= 0) return;

    FileWork* all = static_cast<FileWork*>(MemoryContextAllocZero(batch_cxt, sizeof(FileWork) * n));
    FileWork** buf = static_cast<FileWork**>(MemoryContextAllocZero(batch_cxt, sizeof(FileWork*) * n));
    int* errs = static_cast<int*>(MemoryContextAllocZero(batch_cxt, sizeof(int) * n));
    for (int i = 0; i < n; i++) {
        memset(&outs[i], 0, sizeof outs[i]);
        all[i].target = &target;
        all[i].rel = reqs[i].rel_path;
        all[i].force_reject = reqs[i].force_reject;
        all[i].may_wait = reqs[i].may_wait;
        all[i].group_key = reqs[i].group_key;
        all[i].out = &outs[i];
        all[i].active = true;
    }

    // A. read: hash + metadata, one pass per file.
    MemoryContext caller = MemoryContextSwitchTo(batch_cxt);
    for (int i = 0; i < n; i++) {
        FileWork* w = &all[i];
        if (!run_guarded("reading file", read_step, w, w->out->reason, sizeof w->out->reason)) {
            fail(w, IngestResult::Failed, "%s", w->out->reason);
            continue;
        }
        flush_core_log();
        if (w->kind == kVanished) fail(w, IngestResult::Vanished, "%s", "");
        else if (w->kind == kUnstable) fail(w, IngestResult::Unstable, "changed while being read");
    }
    MemoryContextSwitchTo(caller);
    // ... and durable, all at once.
    ItemSet set = active_items(all, n, buf);
    if (set.n == 0) return;
    SyncArg sync{set, errs};
    char err[1024] = "";
    if (!run_guarded("making inbox files durable", data_sync_step, &sync, err, sizeof err)) {
        for (int i = 0; i < set.n; i++) fail(set.items[i], IngestResult::Failed, "%s", err);
        return;
    }
    for (int i = 0; i < set.n; i++) {
        if (errs[i] == ENOENT) fail(set.items[i], IngestResult::Vanished, "%s", "");
        else if (errs[i] != 0) fail(set.items[i], IngestResult::Failed, "fsync: %s", strerror(errs[i]));
    }

    // B. plan: one transaction for the batch; if it fails, each file alone, so
    // that one bad file never holds back the others.
    set = active_items(all, n, buf);
    if (set.n == 0) return;
    if (!run_in_transaction("planning ingest", plan_step, &set, err, sizeof err)) {
        for (int i = 0; i < set.n; i++) {
            ItemSet one{&set.items[i], 1};
            if (set.n == 1 || !run_in_transaction("planning ingest", plan_step, &one, err, sizeof err))
                fail(set.items[i], IngestResult::Failed, "%s", err);
        }
    }

    // Sidecars whose photo has not arrived stay in the inbox for now.
    for (int i = 0; i < set.n; i++)
        if (set.items[i]->active && strcmp(set.items[i]->outcome, "wait") == 0)
            fail(set.items[i], IngestResult::Waiting, "%s", "sidecar waiting for its photo or video");

    // C. move, then fsync each folder involved once.
    set = active_items(all, n, buf);
    if (set.n == 0) return;
    int nundo = 0;
    FileWork** undo = static_cast<FileWork**>(MemoryContextAllocZero(batch_cxt, sizeof(FileWork*) * n));
    for (int i = 0; i < set.n; i++) {
        FileWork* w = set.items[i];
        if (run_guarded("moving file", move_step, w, w->out->reason, sizeof w->out->reason)) {
            w->moved = true;
            continue;
        }
        w->out->storage_paused = w->storage_blocked;
        if (w->move_unstable) fail(w, IngestResult::Unstable, "%s", w->out->reason);
        else fail(w, IngestResult::Failed, "%s", w->out->reason);
        undo[nundo++] = w;
    }
    if (nundo > 0) {
        // Nothing moved for these: their journal rows go (recovery would find
        // the same, should this fail).
        FinishArg drop{ItemSet{undo, nundo}, false};
        if (!run_in_transaction("rolling back journal entries", finish_step, &drop))
            for (int i = 0; i < nundo; i++) undo[i]->out->needs_recovery = true;
    }
    set = active_items(all, n, buf);
    if (set.n == 0) return;
    if (!run_guarded("making moves durable", dirsync_step, &set, err, sizeof err)) {
        // The files are at their destinations, the journal says so: recovery
        // finishes them once the folders can be synced.
        for (int i = 0; i < set.n; i++) {
            fail(set.items[i], IngestResult::Failed, "%s", err);
            set.items[i]->out->needs_recovery = true;
        }
        return;
    }

    // D. finish: ledger rows + audit events, journal rows retired, one commit.
    FinishArg fin{set, true};
    if (!run_in_transaction("recording ingest", finish_step, &fin, err, sizeof err)) {
        for (int i = 0; i < set.n; i++) {
            FinishArg one{ItemSet{&set.items[i], 1}, true};
            if (set.n == 1 || !run_in_transaction("recording ingest", finish_step, &one, err, sizeof err)) {
                // The file is safely at its destination and its journal row
                // says so: recovery records it.
                fail(set.items[i], IngestResult::Failed, "%s", err);
                set.items[i]->out->needs_recovery = true;
            }
        }
    }

    for (int i = 0; i < n; i++) {
        FileWork* w = &all[i];
        if (!w->active) continue;
        IngestOutcome* out = w->out;
        out->result = strcmp(w->outcome, "ingested") == 0   ? IngestResult::Ingested
                      : strcmp(w->outcome, "duplicate") == 0 ? IngestResult::Duplicate
                      : strcmp(w->outcome, "sidecar") == 0   ? IngestResult::Sidecar
                                                             : IngestResult::Rejected;
        snprintf(out->asset_id, sizeof out->asset_id, "%s", w->asset_id);
        snprintf(out->stored_path, sizeof out->stored_path, "%s/%s", target.storage_dir, w->final_rel);
        if (w->kind == kRejected)
            snprintf(out->reason, sizeof out->reason, "%s", w->force_reject ? w->force_reject : w->reject_reason);
    }
}

void ingest_one(const IngestTarget& target, const char* rel_path, IngestOutcome* out, const char* force_reject) {
    BatchFile req{rel_path, force_reject, false, nullptr};
    ingest_batch(target, &req, 1, out);
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
             "SELECT j.id, j.source_rel, j.dest_rel, coalesce(j.file_hash, ''::pg_catalog.text), j.inbox_root,"
             "       j.storage_root"
             "  FROM photofactory.ingest_journal j"
             " WHERE j.librarian OPERATOR(pg_catalog.=) %d::pg_catalog.int4"
             "    OR pg_catalog.pg_try_advisory_xact_lock_shared(%d::pg_catalog.int4, j.librarian)"
             " ORDER BY j.id",
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
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT pg_catalog.pg_try_advisory_lock(%d::pg_catalog.int4, %d::pg_catalog.int4)",
                 kSlotLockClass, a->index);
        if (SPI_execute(sql, false, 1) != SPI_OK_SELECT) elog(ERROR, "slot lock query failed");
        bool isnull;
        a->got = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    };
    return run_in_transaction("claiming librarian slot", fn, &a) && a.got;
}

}  // namespace pf::pg
