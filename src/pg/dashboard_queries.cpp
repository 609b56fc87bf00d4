// search_path is pinned to pg_catalog, pg_temp in the worker; objects are
// schema-qualified all the same, so the text is safe wherever it runs.
#include "pg/dashboard_queries.hpp"

namespace pf::pg::dashq {

// Counts above this are shown as "100000+": an exact count of a million-row
// queue costs more than a dashboard refresh may.
#define PF_CAP "100000"
// Bars of the hourly / daily ingest charts count up to this many (a first
// import of a whole library lands a million assets in one bar): counting a
// million index entries took 0.3 s per refresh.
#define PF_BUCKET_CAP "20000"

// Uptime and the status timeline work on 3-minute slots per service (a month
// at 8 services x 2 heartbeats a minute is 691,000 rows, 7 days 161,000,
// their slots 27,000). Grouping all 7 days in one statement took 316 ms
// (bench/ dashboard phase), holding up every request meanwhile; so the worker
// runs kSlowSlots once per 12-hour chunk of the window, one chunk per turn of
// its loop, and merges the slots itself (core/uptime_slots: bool_or, max and
// min merge exactly, also for a slot a chunk boundary cuts). Every chunk uses
// the refresh's start time $1 for now(), so the figures are those of one
// statement run at that moment.
//
// The window's start and the last day's start, as now() - interval computes
// them (days follow the session's time zone).
const char* const kSlowBounds =
    "SELECT pg_catalog.now(), pg_catalog.now() - interval '1 day'";
// Chunk $2 (0-based) of kSlowChunks: heartbeats in (start + 12 h * $2,
// start + 12 h * ($2 + 1)]; the last ($3 true) open-ended, as the single
// statement was (so nothing is lost when 7 calendar days span a DST change).
const char* const kSlowSlots = R"SQL(
SELECT service_name::pg_catalog.text,
       pg_catalog.floor(pg_catalog.date_part('epoch', heartbeat_timestamp) / 180)::pg_catalog.int8 AS slot,
       pg_catalog.bool_or(status <> 'ERROR') AS good,
       pg_catalog.max(CASE status WHEN 'ERROR' THEN 2 WHEN 'WARNING' THEN 1 ELSE 0 END) AS worst,
       pg_catalog.min(heartbeat_timestamp) AS first
  FROM photofactory.system_status_history
 WHERE heartbeat_timestamp > $1::pg_catalog.timestamptz - interval '7 days' + $2::pg_catalog.int4 * interval '12 hours'
   AND heartbeat_timestamp <= CASE WHEN $3::pg_catalog.bool THEN 'infinity'::pg_catalog.timestamptz
                                   ELSE $1::pg_catalog.timestamptz - interval '7 days'
                                        + ($2::pg_catalog.int4 + 1) * interval '12 hours' END
 GROUP BY 1, 2
)SQL";

// The end of a slow refresh. $1: the refresh's now(); $2: the merged slots'
// summary as JSON text (core/uptime_slots slot_summary_json: timestamps as
// PostgreSQL's microseconds since 2000-01-01, exact). Uptime is the share of
// a service's slots with a heartbeat that is not ERROR since its first slot in
// the window; only the 50 changes shown look up their heartbeat's task, by index.
#define PF_PGTIME(US) "('2000-01-01 00:00:00+00'::pg_catalog.timestamptz + (" US ") * interval '1 microsecond')"
const char* const kSlowFinal = R"SQL(
WITH p AS MATERIALIZED (
    SELECT $1::pg_catalog.timestamptz AS now, $2::pg_catalog.text::pg_catalog.json AS j
), up AS (
    SELECT u.name AS service_name, u.good1, u.good7,
           )SQL" PF_PGTIME("u.first1") R"SQL( AS first1, )SQL" PF_PGTIME("u.first7") R"SQL( AS first7
      FROM p, pg_catalog.json_to_recordset(p.j -> 'up')
           AS u(name pg_catalog.text, good1 pg_catalog.int8, good7 pg_catalog.int8,
                first1 pg_catalog.int8, first7 pg_catalog.int8)
), c AS (
    SELECT c.name AS service_name, c.prev, c.worst, )SQL" PF_PGTIME("c.first") R"SQL( AS first
      FROM p, pg_catalog.json_to_recordset(p.j -> 'changes')
           AS c(name pg_catalog.text, first pg_catalog.int8, prev pg_catalog.int4, worst pg_catalog.int4)
), shown AS (
    SELECT c.service_name, c.prev, c.worst, x.heartbeat_timestamp AS ts, x.current_task
      FROM c CROSS JOIN LATERAL (
          SELECT h.heartbeat_timestamp, h.current_task FROM photofactory.system_status_history h
           WHERE h.service_name = c.service_name AND h.heartbeat_timestamp >= c.first
             AND h.heartbeat_timestamp < c.first + interval '3 minutes'
             AND h.status = (ARRAY['OK', 'WARNING', 'ERROR'])[c.worst + 1]
           ORDER BY h.heartbeat_timestamp LIMIT 1) x
)
SELECT pg_catalog.json_build_object(
  'uptime', (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object(
                 'name', service_name,
                 'd1', CASE WHEN first1 IS NULL THEN NULL ELSE LEAST(1.0, good1 /
                        GREATEST(1.0, pg_catalog.ceil(pg_catalog.date_part('epoch', p.now - first1) / 180))) END,
                 'd7', LEAST(1.0, good7 /
                        GREATEST(1.0, pg_catalog.ceil(pg_catalog.date_part('epoch', p.now - first7) / 180))))
               ORDER BY service_name), '[]'::pg_catalog.json) FROM up, p),
  'timeline', (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object(
                 'at', pg_catalog.to_char(ts, 'YYYY-MM-DD HH24:MI:SS'), 'name', service_name,
                 'from', (ARRAY['OK', 'WARNING', 'ERROR'])[prev + 1],
                 'to', (ARRAY['OK', 'WARNING', 'ERROR'])[worst + 1], 'task', current_task) ORDER BY ts DESC),
                 '[]'::pg_catalog.json) FROM shown),
  'daily', (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object(
                 't', pg_catalog.to_char(d.day, 'MM-DD'), 'n', COALESCE(c.n, 0)) ORDER BY d.day), '[]'::pg_catalog.json)
              FROM pg_catalog.generate_series(pg_catalog.date_trunc('day', (SELECT now FROM p)) - interval '29 days',
                                              pg_catalog.date_trunc('day', (SELECT now FROM p)), interval '1 day') AS d(day)
              CROSS JOIN LATERAL (SELECT pg_catalog.count(*) AS n FROM (SELECT 1 FROM photofactory.media_assets
                          WHERE ingested_at >= d.day AND ingested_at < d.day + interval '1 day'
                          LIMIT )SQL" PF_BUCKET_CAP R"SQL() q) c),
  'uptime_at', pg_catalog.to_char(p.now, 'YYYY-MM-DD"T"HH24:MI:SS.USOF')
)::pg_catalog.text FROM p
)SQL";

// Each queue's WHERE clause is exactly the predicate of its partial index
// (0.1.0's idx_media_assets_is_geocoded, _pending_thumbnails, ...): without
// is_ingested the planner cannot use them and reads the whole ledger (1.5 s
// per refresh at a million assets, bench/ dashboard phase).
// The fast refresh runs as kFastSteps queries, one per turn of the worker's
// loop (the single statement took 84 ms, 119 ms at worst, at a million
// assets); their objects are merged into one.
const char* const kFastStats[kFastSteps] = {
R"SQL(
SELECT pg_catalog.json_build_object(
  'pending', pg_catalog.json_build_object(
      'geocoding', (SELECT pg_catalog.count(*) FROM (SELECT 1 FROM photofactory.media_assets
                     WHERE is_ingested AND NOT is_geocoded AND location IS NOT NULL LIMIT )SQL" PF_CAP R"SQL() q),
      'thumbnails', (SELECT pg_catalog.count(*) FROM (SELECT 1 FROM photofactory.media_assets
                     WHERE is_ingested AND NOT is_thumbnailed LIMIT )SQL" PF_CAP R"SQL() q))
)::pg_catalog.text
)SQL",
R"SQL(
SELECT pg_catalog.json_build_object(
  'pending', pg_catalog.json_build_object(
      'curation', (SELECT pg_catalog.count(*) FROM (SELECT 1 FROM photofactory.media_assets
                     WHERE is_ingested AND NOT is_curated LIMIT )SQL" PF_CAP R"SQL() q),
      'backup', (SELECT pg_catalog.count(*) FROM (SELECT 1 FROM photofactory.media_assets
                     WHERE is_ingested AND NOT is_backed_up LIMIT )SQL" PF_CAP R"SQL() q))
)::pg_catalog.text
)SQL",
R"SQL(
SELECT pg_catalog.json_build_object(
  'errors_total', (SELECT pg_catalog.count(*) FROM (SELECT 1 FROM photofactory.media_assets
                     WHERE has_errors LIMIT )SQL" PF_CAP R"SQL() q),
  'errors', (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object(
                 'id', id, 'name', original_name, 'message', error_message,
                 'at', pg_catalog.to_char(ingested_at, 'YYYY-MM-DD HH24:MI')) ORDER BY ingested_at DESC), '[]'::pg_catalog.json)
               FROM (SELECT id, original_name, error_message, ingested_at FROM photofactory.media_assets
                      WHERE has_errors ORDER BY ingested_at DESC LIMIT 20) e),
  'assets', (SELECT CASE WHEN c.reltuples < 20000 THEN (SELECT pg_catalog.count(*) FROM photofactory.media_assets)
                         ELSE c.reltuples::pg_catalog.int8 END
               FROM pg_catalog.pg_class c WHERE c.oid = 'photofactory.media_assets'::pg_catalog.regclass),
  'ingested_1h', (SELECT pg_catalog.count(*) FROM (SELECT 1 FROM photofactory.media_assets
                   WHERE ingested_at > pg_catalog.now() - interval '1 hour' LIMIT )SQL" PF_CAP R"SQL() q)
)::pg_catalog.text
)SQL",
R"SQL(
SELECT pg_catalog.json_build_object(
  'hourly', (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object(
                 't', pg_catalog.to_char(d.h, 'HH24:00'), 'n', COALESCE(c.n, 0)) ORDER BY d.h), '[]'::pg_catalog.json)
              FROM pg_catalog.generate_series(pg_catalog.date_trunc('hour', pg_catalog.now()) - interval '23 hours',
                                              pg_catalog.date_trunc('hour', pg_catalog.now()), interval '1 hour') AS d(h)
              CROSS JOIN LATERAL (SELECT pg_catalog.count(*) AS n FROM (SELECT 1 FROM photofactory.media_assets
                          WHERE ingested_at >= d.h AND ingested_at < d.h + interval '1 hour'
                          LIMIT )SQL" PF_BUCKET_CAP R"SQL() q) c)
)::pg_catalog.text
)SQL",
R"SQL(
SELECT pg_catalog.json_build_object(
  'inbox', (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object(
                 'state', state, 'n', n, 'bytes', bytes) ORDER BY state), '[]'::pg_catalog.json)
              FROM (SELECT state, pg_catalog.count(*) AS n, pg_catalog.sum(size_bytes) AS bytes
                      FROM photofactory.inbox_report() GROUP BY state) i),
  'db_bytes', pg_catalog.pg_database_size(pg_catalog.current_database())
)::pg_catalog.text
)SQL"};

const char* const kServices = R"SQL(
SELECT pg_catalog.json_build_object('services',
  COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object(
      'name', service_name, 'status', status, 'task', current_task,
      'age_s', pg_catalog.date_part('epoch', pg_catalog.now() - last_heartbeat),
      'last', pg_catalog.to_char(last_heartbeat, 'YYYY-MM-DD"T"HH24:MI:SS.USOF')) ORDER BY service_name),
    '[]'::pg_catalog.json))::pg_catalog.text
  FROM photofactory.system_status
)SQL";

// 49 rows: the 49th only says whether an "Older" page exists (keyset
// pagination: the page after asset X starts below X's (ingested_at, id)).
#define PF_RECENT(PLACE_COL, PLACE_JOIN) \
    "WITH r AS (" \
    "  SELECT a.*, " PLACE_COL " AS place," \
    "         (SELECT pg_catalog.count(*) FROM photofactory.media_assets c WHERE c.companion_of = a.id) AS companions," \
    "         pg_catalog.row_number() OVER (ORDER BY a.ingested_at DESC, a.id DESC) AS n" \
    "    FROM (SELECT id, original_name, captured_at, media_kind, ingested_at, is_thumbnailed" \
    "            FROM photofactory.media_assets" \
    "           WHERE $1::pg_catalog.uuid IS NULL" \
    "              OR (ingested_at, id) < (SELECT b.ingested_at, b.id FROM photofactory.media_assets b" \
    "                                       WHERE b.id = $1::pg_catalog.uuid)" \
    "           ORDER BY ingested_at DESC, id DESC LIMIT 49) a " PLACE_JOIN \
    ")" \
    "SELECT pg_catalog.json_build_object(" \
    "  'assets', COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_object(" \
    "      'id', id, 'name', original_name, 'captured', pg_catalog.to_char(captured_at, 'YYYY-MM-DD HH24:MI')," \
    "      'kind', media_kind, 'place', place, 'companions', companions, 'thumb', is_thumbnailed) ORDER BY n)" \
    "      FROM r WHERE n <= 48), '[]'::pg_catalog.json)," \
    "  'next', (SELECT id FROM r WHERE n = 48 AND EXISTS (SELECT 1 FROM r r2 WHERE r2.n = 49))" \
    ")::pg_catalog.text"

const char* const kRecent = PF_RECENT("NULL::pg_catalog.text", "");
const char* const kRecentWithPlaces =
    PF_RECENT("pg_catalog.concat_ws(', ', p.city, p.country_name)",
              "LEFT JOIN photofactory.asset_places p ON p.asset_id = a.id");

#define PF_ASSET(PLACE_EXPR) \
    "SELECT pg_catalog.json_build_object(" \
    "  'asset', pg_catalog.to_jsonb(a.*) - 'group_key'," \
    "  'place', " PLACE_EXPR "," \
    "  'companions', (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object('id', c.id, 'name', c.original_name)" \
    "                  ORDER BY c.original_name), '[]'::pg_catalog.json) FROM photofactory.media_assets c" \
    "                 WHERE c.companion_of = a.id OR c.id = a.companion_of)," \
    "  'sidecars', (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object('name', s.original_name, 'kind', s.kind)" \
    "                ORDER BY s.original_name), '[]'::pg_catalog.json) FROM photofactory.asset_sidecars s WHERE s.asset_id = a.id)," \
    "  'preview', a.is_thumbnailed" \
    ")::pg_catalog.text FROM photofactory.media_assets a WHERE a.id = $1::pg_catalog.uuid"

const char* const kAsset = PF_ASSET("NULL::pg_catalog.json");
const char* const kAssetWithPlaces =
    PF_ASSET("(SELECT pg_catalog.row_to_json(p.*) FROM photofactory.asset_places p WHERE p.asset_id = a.id)");

const char* const kHasPlaces =
    "SELECT pg_catalog.to_regclass('photofactory.asset_places') IS NOT NULL";
const char* const kHasThumbnails =
    "SELECT pg_catalog.to_regprocedure('photofactory.thumbnail_path(uuid,text)') IS NOT NULL";
const char* const kThumbnailPath =
    "SELECT photofactory.thumbnail_path(a.id, $2::pg_catalog.text) FROM photofactory.media_assets a"
    " WHERE a.id = $1::pg_catalog.uuid AND a.is_thumbnailed";
const char* const kCurate = "SELECT photofactory.mark_curated($1::pg_catalog.uuid)";

}  // namespace pf::pg::dashq
