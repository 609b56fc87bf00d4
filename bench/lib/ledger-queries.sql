-- Queries timed on the large ledger (bench/run.sh, ledger phase). Each block:
--   -- name: NAME
--   -- kind: queue | listing | health | librarian | verifier | mark
--   -- setup: SQL run once per session before the timed runs (optional, repeatable)
--   the statement (one, no trailing semicolon needed)
-- Each statement runs PF_BENCH_QUERY_RUNS times as EXPLAIN (ANALYZE, BUFFERS) in
-- its own transaction, rolled back. The first run of a session includes the
-- planning of the statements inside PL/pgSQL functions; the report shows it
-- and the median of the others.

-- name: pending_geocoding
-- kind: queue
SELECT * FROM photofactory.pending_geocoding(100)

-- name: pending_thumbnails
-- kind: queue
SELECT * FROM photofactory.pending_thumbnails(100)

-- name: pending_curation
-- kind: queue
SELECT * FROM photofactory.pending_curation(100)

-- name: pending_backup
-- kind: queue
SELECT * FROM photofactory.pending_backup(100)

-- name: recent_assets
-- kind: listing
SELECT * FROM photofactory.recent_assets(100)

-- name: assets_with_errors
-- kind: listing
SELECT * FROM photofactory.assets_with_errors(100)

-- name: service_health
-- kind: health
SELECT * FROM photofactory.service_health

-- name: factory_db_health
-- kind: health
-- (the factory-db worker's health query, src/pg/factory_db_worker.cpp)
SELECT pg_database_size(current_database()), CASE WHEN c.reltuples < 100000 THEN (SELECT count(*) FROM photofactory.media_assets) ELSE c.reltuples::bigint END FROM pg_class c WHERE c.oid = 'photofactory.media_assets'::regclass

-- name: librarian_duplicate_hit
-- kind: librarian
-- (plan step, src/pg/ingest.cpp: is this content already in the ledger?)
-- setup: PREPARE dup(text) AS SELECT id::text FROM photofactory.media_assets WHERE file_hash = $1;
-- setup: SELECT encode(sha256(convert_to('pfbench-1000', 'UTF8')), 'hex') AS h \gset
EXECUTE dup(:'h')

-- name: librarian_duplicate_miss
-- kind: librarian
-- setup: PREPARE dup(text) AS SELECT id::text FROM photofactory.media_assets WHERE file_hash = $1;
EXECUTE dup(repeat('ab', 32))

-- name: ledger_insert_one
-- kind: librarian
-- (the INSERT of _journal_finish: every index and CHECK of a 1M-row table, plus the trigger)
INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes, captured_at, location, utc_offset_minutes, date_source, media_kind, media_format) VALUES (repeat('cd', 32), 'IMG_NEW.jpg', '/srv/Photos_Inbox/IMG_NEW.jpg', '/srv/Storage/Originals/2024/2024-05-01/IMG_NEW.jpg', 3000000, '2024-05-01 10:00', '{"lat": 48.1, "lon": 2.2}', 120, 'exif_original', 'image', 'jpeg')

-- name: mark_thumbnailed_100
-- kind: mark
-- (claim 100 then mark them done, as a thumbnailer commits a batch)
SELECT photofactory.mark_thumbnailed(ARRAY(SELECT id FROM photofactory.pending_thumbnails(100)))

-- name: verifier_next_batch
-- kind: verifier
-- (the row selection of _verification_step for a background run, halfway through the ledger: factory-db's verification queue walks media_assets in id order from verification_runs.last_asset)
SELECT m.id FROM photofactory.media_assets m LEFT JOIN photofactory.asset_integrity i ON i.asset_id = m.id WHERE m.id > '80000000-0000-0000-0000-000000000000'::uuid AND (i.checked_at IS NULL OR i.checked_at < now()) AND (NULL::timestamptz IS NULL OR i.checked_at IS NULL OR i.checked_at < NULL::timestamptz) AND (NULL::float8 IS NULL OR (abs(hashtextextended(m.id::text, 1)) % 1000000) < NULL::float8 * 1000000) ORDER BY m.id LIMIT 200
