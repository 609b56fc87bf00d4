// Phase B of ingest_batch: under the per-hash advisory locks, what the ledger
// knows about the batch's contents and groups; the core's decisions
// (plan_batch: duplicates, companions, sidecars, names); one journal row per
// file that moves, committed together.
#include <cstdio>
#include <string>
#include <vector>

#include "core/batch_plan.hpp"
#include "core/json_writer.hpp"
#include "pg/advisory_locks.hpp"
#include "pg/boundary.hpp"
#include "pg/ingest_work.hpp"
#include "pg/spi_util.hpp"

namespace pf::pg {
namespace {

// What the ledger holds for a set, as text cells (SPI memory, valid for the
// step).
struct LedgerView {
    int nknown = 0, nside = 0, nanch = 0, nres = 0;
    char*** known = nullptr;     // file_hash, asset id
    char*** side = nullptr;      // asset id, file_hash
    char*** anch = nullptr;      // key, id, final_path, original_name, captured_at, offset, date_source
    char*** reserved = nullptr;  // dest_rel
    char today[16] = "";
    char (*ids)[40] = nullptr;   // one fresh asset id per file
};

bool has_content(const FileWork* w) { return w->kind == kRead || w->kind == kSidecar; }

// Content already known: in the ledger, or promised by an in-flight move.
// The per-hash advisory locks serialise this decision across librarians.
void read_known_contents(const ItemSet* set, LedgerView* v) {
    const int n = set->n;
    const char** hashes = static_cast<const char**>(palloc0(sizeof(char*) * (n + 1)));
    int nh = 0;
    for (int i = 0; i < n; i++)
        if (has_content(set->items[i])) hashes[nh++] = set->items[i]->sha256;
    if (nh == 0) return;
    Datum arr = cstring_array(hashes, nullptr, nh, TEXTOID);
    lock_content_hashes(arr);
    v->known = spi_rows("SELECT m.file_hash::pg_catalog.text, m.id::pg_catalog.text FROM photofactory.media_assets m"
                        " WHERE m.file_hash OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])"
                        " UNION ALL SELECT j.file_hash, j.asset_id::pg_catalog.text FROM photofactory.ingest_journal j"
                        " WHERE j.file_hash OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])"
                        "   AND j.outcome OPERATOR(pg_catalog.=) 'ingested'::pg_catalog.text",
                        TEXTARRAYOID, arr, 2, "duplicate lookup", &v->nknown);
    v->side = spi_rows("SELECT s.asset_id::pg_catalog.text, s.file_hash::pg_catalog.text FROM photofactory.asset_sidecars s"
                       " WHERE s.file_hash OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])"
                       " UNION ALL SELECT j.asset_id::pg_catalog.text, j.file_hash FROM photofactory.ingest_journal j"
                       " WHERE j.file_hash OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])"
                       "   AND j.outcome OPERATOR(pg_catalog.=) 'sidecar'::pg_catalog.text",
                       TEXTARRAYOID, arr, 2, "sidecar lookup", &v->nside);
}

// Leaders stored earlier that late companions may join (recent ones: a
// sidecar or video arriving a month later is not a companion), the names
// promised to in-flight moves (the journal is small: only moves in flight),
// today's date and fresh asset ids.
void read_groups_and_names(const ItemSet* set, LedgerView* v) {
    const int n = set->n;
    const IngestTarget* target = set->items[0]->target;
    const char** keys = static_cast<const char**>(palloc0(sizeof(char*) * (n + 1)));
    for (int i = 0; i < n; i++) keys[i] = set->items[i]->group_key;
    v->anch = spi_rows(
        "SELECT m.group_key, m.id::pg_catalog.text, m.final_path, m.original_name::pg_catalog.text,"
        "       m.captured_at::pg_catalog.text, m.utc_offset_minutes::pg_catalog.text, m.date_source"
        "  FROM photofactory.media_assets m"
        " WHERE m.group_key OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[]) AND m.companion_of IS NULL"
        "   AND m.ingested_at OPERATOR(pg_catalog.>)"
        "       (pg_catalog.now() OPERATOR(pg_catalog.-) '30 days'::pg_catalog.interval)"
        " ORDER BY m.ingested_at DESC",
        TEXTARRAYOID, cstring_array(keys, nullptr, n, TEXTOID), 7, "companion lookup", &v->nanch);
    v->reserved = spi_rows("SELECT j.dest_rel FROM photofactory.ingest_journal j"
                           " WHERE j.storage_root OPERATOR(pg_catalog.=) $1::pg_catalog.text", TEXTOID,
                           CStringGetTextDatum(target->storage_dir), 1, "journal scan", &v->nres);
    spi_text1("SELECT pg_catalog.to_char(pg_catalog.now(), 'YYYY-MM-DD'::pg_catalog.text) WHERE $1 IS NOT NULL", "x",
              v->today, sizeof v->today);
    v->ids = static_cast<char (*)[40]>(palloc0(sizeof(char[40]) * (n + 1)));
    for (int i = 0; i < n; i++) new_uuid(v->ids[i], sizeof v->ids[i]);
}

// The core steps below run inside pf_core_call: C++ only, no PostgreSQL call.

pf::PlanFile plan_file(const FileWork* w) {
    pf::PlanFile f;
    f.kind = w->kind == kRead ? pf::PlanFile::Kind::Media
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
    return f;
}

pf::PlanInput plan_input(const ItemSet* set, const LedgerView* v) {
    pf::PlanInput in;
    for (int i = 0; i < set->n; i++) {
        in.files.push_back(plan_file(set->items[i]));
        in.new_ids.emplace_back(v->ids[i]);
    }
    for (int k = 0; k < v->nknown; k++) in.known.push_back({v->known[k][0], v->known[k][1]});
    for (int k = 0; k < v->nside; k++) in.known_sidecars.push_back({v->side[k][0], v->side[k][1]});
    const std::string storage_dir = set->items[0]->target->storage_dir;
    for (int k = 0; k < v->nanch; k++) {
        char** r = v->anch[k];
        if (r[4] == nullptr) continue;  // no capture time
        pf::StoredAsset s;
        s.key = r[0];
        s.asset_id = r[1];
        s.final_path = r[2] ? r[2] : "";
        s.original_name = r[3] ? r[3] : "";
        s.captured_at = r[4];
        if (r[5]) s.utc_offset_minutes = atoi(r[5]);
        s.date_source = r[6] ? r[6] : "";
        if (auto a = pf::anchor_from_stored(storage_dir, s)) in.anchors.push_back(std::move(*a));
    }
    for (int k = 0; k < v->nres; k++) in.reserved.emplace_back(v->reserved[k][0]);
    in.today = v->today;
    return in;
}

// The decision into the file's plain record; patch: JSON merged into its
// details (group, companion, re-dating, reason).
void take_decision(FileWork* w, const pf::PlanDecision& d) {
    w->outcome = d.outcome;
    snprintf(w->asset_id, sizeof w->asset_id, "%s", d.asset_id.c_str());
    snprintf(w->dest_rel, sizeof w->dest_rel, "%s", d.dest_rel.c_str());
    pf::JsonObject patch;
    if (has_content(w)) patch.add("group_key", d.group_key);
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

void decide(const ItemSet* set, const LedgerView* v) {
    pf_core_call("planning ingest", [&]() {
        std::vector<pf::PlanDecision> ds = pf::plan_batch(set->items[0]->target->storage_fd, plan_input(set, v));
        for (int i = 0; i < set->n; i++) take_decision(set->items[i], ds[static_cast<size_t>(i)]);
    });
}

// One journal row per file that moves, all in one statement.
void insert_journal_rows(const ItemSet* set) {
    const int n = set->n;
    const IngestTarget* target = set->items[0]->target;
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
        if (w->outcome == pf::PlanDecision::Outcome::Wait) continue;
        outcomes[m] = pf::to_string(w->outcome);
        sources[m] = w->rel;
        dests[m] = w->dest_rel;
        fhashes[m] = w->sha256;
        hash_null[m] = !has_content(w);
        assets[m] = w->asset_id;
        asset_null[m] = w->asset_id[0] == '\0' || w->outcome == pf::PlanDecision::Outcome::Rejected;
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

}  // namespace

void plan_step(void* arg) {
    auto* set = static_cast<ItemSet*>(arg);
    LedgerView v;
    read_known_contents(set, &v);
    read_groups_and_names(set, &v);
    decide(set, &v);
    insert_journal_rows(set);
}

}  // namespace pf::pg
