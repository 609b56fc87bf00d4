// The geocoder service: claims pending_geocoding(), finds each asset's nearest
// place in an in-memory k-d tree (core/place_index.hpp) built from
// photofactory.places, writes asset_places and marks the assets geocoded.
// A place farther than photofactory.geocoder_max_km is no answer: the asset is
// still geocoded, with an unknown place and the distance to the nearest one.
//
// Why a k-d tree in the worker rather than a GiST index per query (Immich's
// ORDER BY earth_distance): one lookup is ~1 us of arithmetic against a query
// plan, an index descent and a sort per asset; bench/ measures both side by side.
#include "pg/geocoder.hpp"

#include <cstdio>

#include "core/country_shapes.hpp"
#include "core/place_index.hpp"
#include "core/place_lookup.hpp"
#include "pg/advisory_locks.hpp"
#include "pg/boundary.hpp"
#include "pg/gucs.hpp"

namespace pf::pg {
namespace {

constexpr int kBatchSize = 1000;

// The index outlives transactions; reached through a plain pointer so that no
// longjmp ever runs over it.
pf::PlaceIndex* g_index = nullptr;
pf::CountryShapes* g_shapes = nullptr;  // empty when no boundaries were loaded
int64 g_generation = -1;  // places_dataset.generation the index was built from
// ... and its loaded_at: a dropped and re-created extension starts again at
// generation 1, with other place ids.
TimestampTz g_loaded_at = 0;
bool g_warned_no_places = false;

// One statement per batch: the answers go to asset_places and the assets are
// marked, planned once per worker (SPI_keepplan; the plan cache re-plans it if
// the tables change). The mark writes what the guard trigger would make of it
// (flag, its timestamp, updated_at), so media_assets_guard_update's WHEN skips
// the trigger function (section 4a-ii of the update script); same rows as
// mark_geocoded(uuid[]): the given ids not geocoded yet. Returns the rows
// written to asset_places and the assets newly marked.
constexpr const char* kWriteAndMarkSql =
    "WITH x AS ("
    "  SELECT * FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.uuid[]), pg_catalog.unnest($2::pg_catalog.int4[]),"
    "                           pg_catalog.unnest($3::pg_catalog.float8[])) AS x(id, place, km)"
    "), w AS ("
    "  INSERT INTO photofactory.asset_places AS ap"
    "   (asset_id, place_id, city, admin1, admin2, country_code, country_name, distance_km,"
    "    dataset_generation, geocoded_at)"
    "  SELECT x.id, p.id, p.name, p.admin1, p.admin2, p.country_code, p.country_name, x.km, $4,"
    "         pg_catalog.now()"
    "    FROM x LEFT JOIN photofactory.places AS p ON p.id OPERATOR(pg_catalog.=) x.place"
    "  ON CONFLICT (asset_id) DO UPDATE SET place_id = EXCLUDED.place_id, city = EXCLUDED.city,"
    "    admin1 = EXCLUDED.admin1, admin2 = EXCLUDED.admin2, country_code = EXCLUDED.country_code,"
    "    country_name = EXCLUDED.country_name, distance_km = EXCLUDED.distance_km,"
    "    dataset_generation = EXCLUDED.dataset_generation, geocoded_at = EXCLUDED.geocoded_at"
    "  RETURNING 1"
    "), u AS ("
    "  UPDATE photofactory.media_assets AS a"
    "     SET is_geocoded = true, geocoded_at = pg_catalog.now(), updated_at = pg_catalog.now()"
    "   WHERE a.id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.uuid[]) AND NOT a.is_geocoded"
    "  RETURNING 1"
    ")"
    " SELECT (SELECT pg_catalog.count(*) FROM w), (SELECT pg_catalog.count(*) FROM u)";
SPIPlanPtr g_write_plan = nullptr;

// Results of the batch in hand, by claim row.
int32 g_place[kBatchSize];
double g_km[kBatchSize];

// Country codes as small numbers shared by places and shapes: AA = 0 .. ZZ = 675.
int32 country_number(const char* code) {
    if (code == nullptr || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z') return -1;
    return (code[0] - 'A') * 26 + (code[1] - 'A');
}

// Boundary rings, read in (polygon, ring) order so that each polygon's rings
// arrive together; flat lon,lat arrays copied into plain memory first.
void load_shapes() {
    int rc = SPI_execute("SELECT s.country_code, s.polygon, s.points FROM photofactory.country_shapes AS s"
                         " ORDER BY s.polygon, s.ring", false, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "reading photofactory.country_shapes failed: %s", SPI_result_code_string(rc));
    size_t rows = SPI_processed;
    size_t total = 0;
    auto* counts = static_cast<size_t*>(palloc(sizeof(size_t) * (rows + 1)));
    auto* countries = static_cast<int32*>(palloc(sizeof(int32) * (rows + 1)));
    auto* polygons = static_cast<int64*>(palloc(sizeof(int64) * (rows + 1)));
    auto** data = static_cast<double**>(palloc(sizeof(double*) * (rows + 1)));
    for (size_t i = 0; i < rows; i++) {
        HeapTuple t = SPI_tuptable->vals[i];
        TupleDesc d = SPI_tuptable->tupdesc;
        bool n1, n2, n3;
        char* code = SPI_getvalue(t, d, 1);
        countries[i] = country_number(code);
        polygons[i] = DatumGetInt64(SPI_getbinval(t, d, 2, &n2));
        ArrayType* arr = DatumGetArrayTypeP(SPI_getbinval(t, d, 3, &n3));
        (void)n1;
        if (n2 || n3 || ARR_NDIM(arr) != 1 || ARR_HASNULL(arr) || ARR_ELEMTYPE(arr) != FLOAT8OID) {
            counts[i] = 0;
            data[i] = nullptr;
            continue;
        }
        counts[i] = static_cast<size_t>(ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr))) / 2;
        data[i] = reinterpret_cast<double*>(ARR_DATA_PTR(arr));
        total += counts[i];
    }
    size_t polys = 0;
    pf_core_call("building the country shapes", [&] {
        delete g_shapes;
        g_shapes = nullptr;
        g_shapes = new pf::CountryShapes();
        for (size_t i = 0; i < rows; i++)
            if (data[i] != nullptr && countries[i] >= 0)
                g_shapes->add_ring(countries[i], polygons[i], data[i], counts[i]);
        polys = g_shapes->polygons();
    });
    SPI_freetuptable(SPI_tuptable);
    ereport(LOG, (errmsg("photofactory %s: country boundaries: %zu polygons, %zu points", g_worker.label, polys,
                         total)));
}

void rebuild_index(int64 generation) {
    instr_time start, elapsed;
    INSTR_TIME_SET_CURRENT(start);
    // read_only = false: a fresh snapshot, taken after prepare()'s lock -- the
    // transaction's first snapshot may predate a load that committed while the
    // lock was awaited, and would see no places at all.
    int rc = SPI_execute("SELECT p.id, p.lat, p.lon, p.country_code FROM photofactory.places AS p", false, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "reading photofactory.places failed: %s", SPI_result_code_string(rc));
    size_t n = SPI_processed;
    if (n == 0) elog(ERROR, "photofactory.places is empty although places_dataset describes a data set");
    auto* ids = static_cast<int64*>(palloc(sizeof(int64) * (n + 1)));
    auto* lats = static_cast<double*>(palloc(sizeof(double) * (n + 1)));
    auto* lons = static_cast<double*>(palloc(sizeof(double) * (n + 1)));
    auto* countries = static_cast<int32*>(palloc(sizeof(int32) * (n + 1)));
    for (size_t i = 0; i < n; i++) {
        bool n1, n2, n3;
        HeapTuple t = SPI_tuptable->vals[i];
        ids[i] = DatumGetInt32(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &n1));
        lats[i] = DatumGetFloat8(SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &n2));
        lons[i] = DatumGetFloat8(SPI_getbinval(t, SPI_tuptable->tupdesc, 3, &n3));
        if (n1 || n2 || n3) elog(ERROR, "photofactory.places holds a NULL id or position");
        countries[i] = country_number(SPI_getvalue(t, SPI_tuptable->tupdesc, 4));
    }
    SPI_freetuptable(SPI_tuptable);
    g_generation = -1;  // until the build succeeded
    size_t built = 0, skipped = 0;
    pf_core_call("building the places index", [&] {
        if (g_index == nullptr) g_index = new pf::PlaceIndex();
        g_index->build(reinterpret_cast<const int64_t*>(ids), lats, lons, n, countries);
        built = g_index->size();
        skipped = g_index->skipped();
    });
    pfree(ids);
    pfree(lats);
    pfree(lons);
    pfree(countries);
    load_shapes();
    g_generation = generation;
    INSTR_TIME_SET_CURRENT(elapsed);
    INSTR_TIME_SUBTRACT(elapsed, start);
    ereport(LOG, (errmsg("photofactory %s: places index built from data set generation %lld: %zu places%s in %.0f ms",
                         g_worker.label, static_cast<long long>(generation), built,
                         skipped ? " (some skipped: invalid positions)" : "", INSTR_TIME_GET_MILLISEC(elapsed))));
}

bool geocoder_prepare(ServiceStatus* st) {
    // A database still at 0.1.0 has the queue but not asset_places.
    int rc = SPI_execute("SELECT pg_catalog.to_regclass('photofactory.asset_places') IS NOT NULL", true, 1);
    bool isnull;
    if (rc != SPI_OK_SELECT || SPI_processed != 1 ||
        !DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull))) {
        snprintf(st->status, sizeof st->status, "WARNING");
        snprintf(st->detail, sizeof st->detail,
                 "Idle: photofactory is older than 0.2.0 here; run ALTER EXTENSION photofactory UPDATE");
        return false;
    }
    // load_places() holds this advisory lock exclusively: while this batch
    // holds it shared, no new data set can commit between the check below and
    // the batch's writes (they would name the old set's place ids with the new
    // set's rows). Then a fresh snapshot (read_only = false): the transaction's
    // first one may predate a load that committed while the lock was awaited.
    xact_lock_shared(LockClass::Places, 0);
    rc = SPI_execute("SELECT d.generation, d.place_count, d.source, d.loaded_at FROM photofactory.places_dataset AS d",
                     false, 1);
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "reading photofactory.places_dataset failed: %s", SPI_result_code_string(rc));
    if (SPI_processed == 0) {
        if (!g_warned_no_places)
            ereport(WARNING,
                    (errmsg("photofactory %s: no places loaded; photos stay ungeocoded", g_worker.label),
                     errhint("Load GeoNames places: bash scripts/load-places.sh -d %s (docs/operations.md, \"Places\").",
                             g_worker.database)));
        g_warned_no_places = true;
        snprintf(st->status, sizeof st->status, "WARNING");
        snprintf(st->detail, sizeof st->detail,
                 "Idle: no places loaded; run scripts/load-places.sh to geocode photos");
        return false;
    }
    g_warned_no_places = false;
    HeapTuple t = SPI_tuptable->vals[0];
    TupleDesc d = SPI_tuptable->tupdesc;
    int64 generation = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
    int32 count = DatumGetInt32(SPI_getbinval(t, d, 2, &isnull));
    char* source = SPI_getvalue(t, d, 3);
    TimestampTz loaded_at = DatumGetTimestampTz(SPI_getbinval(t, d, 4, &isnull));
    snprintf(st->detail, sizeof st->detail, "%d places (%s), max %.0f km", count, source ? source : "?",
             guc_geocoder_max_km);
    if (generation != g_generation || loaded_at != g_loaded_at) {
        rebuild_index(generation);
        g_loaded_at = loaded_at;
    }
    return true;
}

bool geocoder_process(SPITupleTable* claimed, uint64 row, char* err, size_t errlen) {
    bool lat_null, lon_null;
    double lat = DatumGetFloat8(SPI_getbinval(claimed->vals[row], claimed->tupdesc, 2, &lat_null));
    double lon = DatumGetFloat8(SPI_getbinval(claimed->vals[row], claimed->tupdesc, 3, &lon_null));
    if (lat_null || lon_null) {
        snprintf(err, errlen, "location has no numeric lat/lon");
        return false;
    }
    bool found = false;
    int64 id = 0;
    double km = 0;
    const double max_km = guc_geocoder_max_km;
    pf_core_call("looking up the nearest place", [&] {
        auto answer = pf::lookup_place(*g_index, g_shapes, lat, lon, max_km);
        if (answer) {
            found = true;
            id = answer->hit.id;
            km = answer->hit.distance_km;
        }
    });
    if (!found) {
        snprintf(err, errlen, "location %.6f,%.6f is not a valid WGS84 position", lat, lon);
        return false;
    }
    g_km[row] = km;
    g_place[row] = km <= guc_geocoder_max_km ? static_cast<int32>(id) : -1;
    return true;
}

void geocoder_complete(const pg_uuid_t* ids, const bool* ok, int from, int to) {
    int n = to - from;
    Datum* idd = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    Datum* placed = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    Datum* kmd = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    bool* place_null = static_cast<bool*>(palloc(sizeof(bool) * n));
    int m = 0;
    for (int i = from; i < to; i++) {
        if (!ok[i]) continue;
        idd[m] = UUIDPGetDatum(const_cast<pg_uuid_t*>(&ids[i]));
        placed[m] = Int32GetDatum(g_place[i]);
        place_null[m] = g_place[i] < 0;
        kmd[m] = Float8GetDatum(g_km[i]);
        m++;
    }
    if (m == 0) return;
    int dims[1] = {m}, lbs[1] = {1};
    Datum args[4];
    args[0] = PointerGetDatum(construct_array(idd, m, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
    args[1] = PointerGetDatum(construct_md_array(placed, place_null, 1, dims, lbs, INT4OID, 4, true, TYPALIGN_INT));
    args[2] = PointerGetDatum(construct_array(kmd, m, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
    args[3] = Int64GetDatum(g_generation);
    bool count_null;
    if (g_write_plan == nullptr) {
        Oid types[4] = {UUIDARRAYOID, INT4ARRAYOID, FLOAT8ARRAYOID, INT8OID};
        SPIPlanPtr plan = SPI_prepare(kWriteAndMarkSql, 4, types);
        if (plan == nullptr) elog(ERROR, "preparing the geocoder's write failed: %s", SPI_result_code_string(SPI_result));
        if (SPI_keepplan(plan) != 0) elog(ERROR, "keeping the geocoder's write plan failed");
        g_write_plan = plan;
    }
    int rc = SPI_execute_plan(g_write_plan, args, nullptr, false, 0);
    if (rc != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "writing asset_places and marking failed: %s", SPI_result_code_string(rc));
    int64 written = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &count_null));
    if (written != m) elog(ERROR, "writing asset_places wrote %lld rows for %d assets", static_cast<long long>(written), m);
}

// A unit that cannot be geocoded (its error is recorded) leaves the queue:
// marked geocoded with no asset_places row. regeocode_all() retries it.
void geocoder_retire(const pg_uuid_t* id) {
    Oid type = UUIDOID;
    Datum v = UUIDPGetDatum(const_cast<pg_uuid_t*>(id));
    int rc = SPI_execute_with_args("SELECT photofactory.mark_geocoded($1::pg_catalog.uuid)", 1, &type, &v, nullptr,
                                   false, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "photofactory.mark_geocoded failed: %s", SPI_result_code_string(rc));
}

}  // namespace

// The claim is pending_geocoding() itself (FOR UPDATE SKIP LOCKED inside);
// the position is read defensively: the schema's CHECK makes lat/lon numbers,
// but a NULL here is a failed unit, not a failed batch.
const ServiceDef kGeocoderService = {
    "geocoder",
    WorkerKind::Geocoder,
    &guc_geocoder_workers,
    kMaxServiceWorkers,
    "SELECT q.id,"
    " CASE WHEN pg_catalog.jsonb_typeof(q.location -> 'lat') OPERATOR(pg_catalog.=) 'number'"
    "      THEN (q.location ->> 'lat')::pg_catalog.float8 END,"
    " CASE WHEN pg_catalog.jsonb_typeof(q.location -> 'lon') OPERATOR(pg_catalog.=) 'number'"
    "      THEN (q.location ->> 'lon')::pg_catalog.float8 END"
    " FROM photofactory.pending_geocoding($1) AS q",
    kBatchSize,
    2000,
    geocoder_prepare,
    geocoder_process,
    geocoder_complete,
    geocoder_retire,
    nullptr,
};

}  // namespace pf::pg
