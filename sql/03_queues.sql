-- Pending-work queues, read-only listings, marking done and error recording:
-- semantics, argument errors, and the plans the functions actually run.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS photofactory;
RESET client_min_messages;
\set VERBOSITY terse

-- Runs a statement and reports its outcome as 'ok' or 'SQLSTATE: message', so
-- the error codes of bad input are part of the expected output.
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

TRUNCATE photofactory.media_assets;

-- Six assets with known ingest times. Replica mode skips the trigger so the
-- test can pick ingested_at; the CHECKs still apply, hence the *_at values.
SET session_replication_role = replica;
INSERT INTO photofactory.media_assets
       (id, file_hash, original_name, original_path, final_path, size_bytes, ingested_at, location,
        is_geocoded, geocoded_at, is_thumbnailed, thumbnailed_at, is_curated, curated_at,
        is_backed_up, backed_up_at, has_errors, error_message)
VALUES
 ('00000000-0000-0000-0000-0000000000a1', repeat('1', 64), 'a1.jpg', '/i/a1.jpg', '/s/a1.jpg', 1,
  '2024-01-01 01:00+00', '{"lat": 1, "lon": 1}', false, NULL, false, NULL, false, NULL, false, NULL, false, NULL),
 ('00000000-0000-0000-0000-0000000000a2', repeat('2', 64), 'a2.jpg', '/i/a2.jpg', '/s/a2.jpg', 2,
  '2024-01-01 02:00+00', NULL, false, NULL, false, NULL, false, NULL, false, NULL, false, NULL),
 ('00000000-0000-0000-0000-0000000000a3', repeat('3', 64), 'a3.jpg', '/i/a3.jpg', '/s/a3.jpg', 3,
  '2024-01-01 03:00+00', '{"lat": 3, "lon": 3}', true, now(), true, now(), false, NULL, false, NULL, false, NULL),
 ('00000000-0000-0000-0000-0000000000a4', repeat('4', 64), 'a4.jpg', '/i/a4.jpg', '/s/a4.jpg', 4,
  '2024-01-01 04:00+00', '{"lat": 4, "lon": 4}', false, NULL, false, NULL, true, now(), true, now(), false, NULL),
 ('00000000-0000-0000-0000-0000000000a5', repeat('5', 64), 'a5.mp4', '/i/a5.mp4', '/s/a5.mp4', 5,
  '2024-01-01 05:00+00', NULL, false, NULL, false, NULL, false, NULL, false, NULL, true, 'metadata: no moov box'),
 ('00000000-0000-0000-0000-0000000000a6', repeat('6', 64), 'a6.jpg', '/i/a6.jpg', '/s/a6.jpg', 6,
  '2024-01-01 06:00+00', '{"lat": 6, "lon": 6}', true, now(), true, now(), true, now(), true, now(), false, NULL);
RESET session_replication_role;

-- Queues: oldest ingested first, each with its own predicate.
SELECT 'geocoding' AS queue, string_agg(original_name, ', ') AS assets FROM photofactory.pending_geocoding()
UNION ALL
SELECT 'thumbnails', string_agg(original_name, ', ') FROM photofactory.pending_thumbnails()
UNION ALL
SELECT 'curation', string_agg(original_name, ', ') FROM photofactory.pending_curation()
UNION ALL
SELECT 'backup', string_agg(original_name, ', ') FROM photofactory.pending_backup();
-- The order is the function's (ORDER BY ingested_at), not an accident of storage.
SELECT original_name, ingested_at AT TIME ZONE 'UTC' AS ingested_utc FROM photofactory.pending_backup(3);
SELECT count(*) FROM photofactory.pending_thumbnails(2);
SELECT count(*) FROM photofactory.pending_thumbnails(0);
-- Whole rows come back (SETOF media_assets).
SELECT id, file_hash, location FROM photofactory.pending_geocoding(1);

-- Read-only listings: newest first.
SELECT original_name FROM photofactory.recent_assets(3);
SELECT original_name, error_message FROM photofactory.assets_with_errors();
SELECT count(*) FROM photofactory.recent_assets();

-- Bad limits are errors, not empty results.
SELECT f, pg_temp.try(format('SELECT * FROM photofactory.%s(%s)', f, arg)) AS result
  FROM unnest(ARRAY['pending_geocoding', 'pending_thumbnails', 'pending_curation', 'pending_backup',
                    'assets_with_errors', 'recent_assets']) AS f,
       unnest(ARRAY['NULL', '-1']) AS arg
 ORDER BY f, arg;

-- Marking one asset: 1 when newly marked, 0 when already marked (the first
-- timestamp is kept), an error for an unknown or NULL id.
SELECT photofactory.mark_geocoded('00000000-0000-0000-0000-0000000000a1'::uuid) AS first,
       photofactory.mark_geocoded('00000000-0000-0000-0000-0000000000a1'::uuid) AS second;
SELECT geocoded_at AS first_geocoded_at FROM photofactory.media_assets
 WHERE id = '00000000-0000-0000-0000-0000000000a1' \gset
SELECT photofactory.mark_geocoded('00000000-0000-0000-0000-0000000000a1'::uuid) AS third;
SELECT geocoded_at = :'first_geocoded_at' AS first_timestamp_kept, is_geocoded
  FROM photofactory.media_assets WHERE id = '00000000-0000-0000-0000-0000000000a1';
SELECT string_agg(original_name, ', ') AS still_pending_geocoding FROM photofactory.pending_geocoding();
SELECT photofactory.mark_thumbnailed('00000000-0000-0000-0000-0000000000a2'::uuid) AS thumbnailed,
       photofactory.mark_curated('00000000-0000-0000-0000-0000000000a2'::uuid) AS curated,
       photofactory.mark_backed_up('00000000-0000-0000-0000-0000000000a2'::uuid) AS backed_up,
       photofactory.mark_backed_up('00000000-0000-0000-0000-0000000000a2'::uuid) AS backed_up_again;
SELECT is_thumbnailed, thumbnailed_at IS NOT NULL AS thumbnailed_at_set,
       is_curated, curated_at IS NOT NULL AS curated_at_set,
       is_backed_up, backed_up_at IS NOT NULL AS backed_up_at_set
  FROM photofactory.media_assets WHERE id = '00000000-0000-0000-0000-0000000000a2';

-- Marking a batch: the count of newly marked rows; unknown ids are ignored
-- (they do not abort the batch), duplicates count once, [] marks nothing.
SELECT photofactory.mark_geocoded(ARRAY['00000000-0000-0000-0000-0000000000a4',
                                        '00000000-0000-0000-0000-0000000000a4',
                                        '00000000-0000-0000-0000-0000000000a1',
                                        '00000000-0000-0000-0000-00000000ffff']::uuid[]) AS geocoded;
SELECT photofactory.mark_thumbnailed(ARRAY['00000000-0000-0000-0000-0000000000a1',
                                           '00000000-0000-0000-0000-0000000000a4',
                                           '00000000-0000-0000-0000-0000000000a5']::uuid[]) AS thumbnailed;
SELECT photofactory.mark_curated(ARRAY['00000000-0000-0000-0000-0000000000a1',
                                       '00000000-0000-0000-0000-0000000000a4']::uuid[]) AS curated;
SELECT photofactory.mark_backed_up(ARRAY['00000000-0000-0000-0000-0000000000a3']::uuid[]) AS backed_up;
SELECT photofactory.mark_backed_up('{}'::uuid[]) AS nothing;
SELECT original_name, is_geocoded, is_thumbnailed, is_curated, is_backed_up
  FROM photofactory.media_assets ORDER BY original_name;

-- Bad ids.
SELECT f, pg_temp.try(format('SELECT photofactory.%s(%s)', f, arg)) AS result
  FROM unnest(ARRAY['mark_geocoded', 'mark_thumbnailed', 'mark_curated', 'mark_backed_up']) AS f,
       unnest(ARRAY['NULL::uuid', 'NULL::uuid[]', $$'00000000-0000-0000-0000-00000000ffff'::uuid$$,
                    $$ARRAY['00000000-0000-0000-0000-0000000000a1', NULL]::uuid[]$$]) WITH ORDINALITY AS a(arg, n)
 ORDER BY f, n;

-- Errors: record_error sets the flag and the message (the latest replaces an
-- earlier one); clear_error returns 1 when it cleared something, else 0.
SELECT photofactory.record_error('00000000-0000-0000-0000-0000000000a1', 'geocoder: timeout');
SELECT photofactory.record_error('00000000-0000-0000-0000-0000000000a1', 'geocoder: HTTP 503');
SELECT original_name, has_errors, error_message FROM photofactory.assets_with_errors();
SELECT photofactory.clear_error('00000000-0000-0000-0000-0000000000a1') AS cleared,
       photofactory.clear_error('00000000-0000-0000-0000-0000000000a1') AS cleared_again;
SELECT has_errors, error_message FROM photofactory.media_assets
 WHERE id = '00000000-0000-0000-0000-0000000000a1';
SELECT pg_temp.try(stmt) AS result
  FROM unnest(ARRAY[
        $$SELECT photofactory.record_error(NULL, 'x')$$,
        $$SELECT photofactory.record_error('00000000-0000-0000-0000-0000000000a1', NULL)$$,
        $$SELECT photofactory.record_error('00000000-0000-0000-0000-0000000000a1', '  ')$$,
        $$SELECT photofactory.record_error('00000000-0000-0000-0000-00000000ffff', 'x')$$,
        $$SELECT photofactory.clear_error(NULL)$$,
        $$SELECT photofactory.clear_error('00000000-0000-0000-0000-00000000ffff')$$]) WITH ORDINALITY AS s(stmt, n)
 ORDER BY n;

-- Plans. The query is taken verbatim from the function's own source
-- (pg_proc.prosrc, the RETURN QUERY statement) with the limit as a parameter,
-- prepared, and explained as a generic plan: that is the plan PL/pgSQL caches
-- and reuses, whatever limit a caller passes. The table gets a realistic shape
-- first: 5000 assets of which 100 still have work pending.
CREATE FUNCTION pg_temp.function_plan(fn regprocedure) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    q text;
    line text;
BEGIN
    SELECT substring(p.prosrc FROM 'RETURN QUERY\s+([^;]*);') INTO STRICT q
      FROM pg_proc p WHERE p.oid = fn;
    q := regexp_replace(q, '\m(p_limit|max_rows)\M', '$1', 'g');
    EXECUTE format('PREPARE pf_function_query(integer) AS %s', q);
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) EXECUTE pf_function_query(100)' LOOP
        RETURN NEXT line;
    END LOOP;
    DEALLOCATE pf_function_query;
END
$$;

TRUNCATE photofactory.media_assets;
SET session_replication_role = replica;
INSERT INTO photofactory.media_assets
       (file_hash, original_name, original_path, final_path, size_bytes, ingested_at, location,
        is_geocoded, geocoded_at, is_thumbnailed, thumbnailed_at, is_curated, curated_at,
        is_backed_up, backed_up_at, has_errors, error_message)
SELECT encode(sha256(convert_to(g::text, 'UTF8')), 'hex'), 'IMG_' || g || '.jpg', '/i', '/s', g,
       timestamptz '2024-01-01 00:00+00' + g * interval '1 minute',
       CASE WHEN g % 3 = 0 THEN jsonb_build_object('lat', 1, 'lon', 2) END,
       done, CASE WHEN done THEN now() END, done, CASE WHEN done THEN now() END,
       done, CASE WHEN done THEN now() END, done, CASE WHEN done THEN now() END,
       g % 500 = 0, CASE WHEN g % 500 = 0 THEN 'error ' || g END
  FROM generate_series(1, 5000) AS g, LATERAL (SELECT g <= 4900 AS done) AS d;
RESET session_replication_role;
ANALYZE photofactory.media_assets;

-- What the helper explains is the function's query:
SELECT substring(prosrc FROM 'RETURN QUERY\s+([^;]*);') AS pending_geocoding_query
  FROM pg_proc WHERE oid = 'photofactory.pending_geocoding(integer)'::regprocedure;

SET plan_cache_mode = force_generic_plan;
SELECT pg_temp.function_plan('photofactory.pending_geocoding(integer)');
SELECT pg_temp.function_plan('photofactory.pending_thumbnails(integer)');
SELECT pg_temp.function_plan('photofactory.pending_curation(integer)');
SELECT pg_temp.function_plan('photofactory.pending_backup(integer)');
SELECT pg_temp.function_plan('photofactory.assets_with_errors(integer)');
SELECT pg_temp.function_plan('photofactory.recent_assets(integer)');
-- A caller's first calls get custom plans; same index.
SET plan_cache_mode = force_custom_plan;
SELECT pg_temp.function_plan('photofactory.pending_geocoding(integer)');
RESET plan_cache_mode;

-- And the queues return what those plans promise.
SELECT count(*) AS pending_geocoding, min(original_name) AS first
  FROM photofactory.pending_geocoding(1000);
SELECT original_name FROM photofactory.pending_backup(3);

TRUNCATE photofactory.media_assets;
