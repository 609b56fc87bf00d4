-- Section 4a-ii of the 0.2.0 update script: the guard trigger of media_assets
-- is split by event, and the UPDATE one skips the guard function when it would
-- neither raise nor change NEW (the geocoder's mark). Behaviour must be the
-- guard's for every UPDATE: checked case by case, and by running the same
-- UPDATEs against a copy of the table whose guard always fires.
BEGIN;
SELECT plan(19);

SELECT has_trigger('photofactory', 'media_assets', 'media_assets_guard_update',
                   'media_assets has the UPDATE guard trigger');
SELECT is((SELECT (tgtype::int & 28) FROM pg_trigger
            WHERE tgrelid = 'photofactory.media_assets'::regclass AND tgname = 'media_assets_guard'), 4,
          'media_assets_guard fires on INSERT only');
SELECT is((SELECT (tgtype::int & 28) FROM pg_trigger
            WHERE tgrelid = 'photofactory.media_assets'::regclass AND tgname = 'media_assets_guard_update'), 16,
          'media_assets_guard_update fires on UPDATE only');
SELECT ok((SELECT tgqual IS NOT NULL AND tgfoid = 'photofactory._media_assets_guard()'::regprocedure
             FROM pg_trigger
            WHERE tgrelid = 'photofactory.media_assets'::regclass AND tgname = 'media_assets_guard_update'),
          'the UPDATE trigger runs the guard function under a WHEN');

-- Rows with timestamps in the past (written with the triggers off; the CHECKs
-- still apply), so that "kept" and "now()" differ inside this transaction.
SET LOCAL session_replication_role = replica;
INSERT INTO photofactory.media_assets
    (id, file_hash, original_name, original_path, final_path, size_bytes, location,
     is_geocoded, geocoded_at, is_thumbnailed, thumbnailed_at, has_errors, error_message,
     ingested_at, created_at, updated_at)
VALUES ('62000000-0000-0000-0000-000000000001', repeat('a1', 32), 'a.jpg', '/i/a.jpg', '/s/a.jpg', 1,
        '{"lat": 1, "lon": 2}', false, NULL, true, '2000-01-03', false, NULL,
        '2000-01-01', '2000-01-01', '2000-01-01'),
       ('62000000-0000-0000-0000-000000000002', repeat('a2', 32), 'b.jpg', '/i/b.jpg', '/s/b.jpg', 1,
        '{"lat": 1, "lon": 2}', true, '2000-01-02', false, NULL, true, 'thumbnailer: broken',
        '2000-01-01', '2000-01-01', '2000-01-01'),
       ('62000000-0000-0000-0000-000000000003', repeat('a3', 32), 'c.jpg', '/i/c.jpg', '/s/c.jpg', 1,
        NULL, false, NULL, false, NULL, false, NULL,
        '2000-01-01', '2000-01-01', '2000-01-01');
SET LOCAL session_replication_role = origin;

-- Case by case.
SELECT lives_ok($$UPDATE photofactory.media_assets SET is_geocoded = true, geocoded_at = now(), updated_at = now()
                   WHERE id = '62000000-0000-0000-0000-000000000001'$$, 'the geocoder''s mark is accepted');
SELECT results_eq($$SELECT is_geocoded, geocoded_at = now(), updated_at = now(), ingested_at, thumbnailed_at
                      FROM photofactory.media_assets WHERE id = '62000000-0000-0000-0000-000000000001'$$,
                  $$VALUES (true, true, true, '2000-01-01'::timestamptz, '2000-01-03'::timestamptz)$$,
                  'after the mark: flag, its timestamp and updated_at are now(), the rest kept');
SELECT throws_ok($$UPDATE photofactory.media_assets SET location = '{"lat": 1, "lon": 3}', updated_at = now()
                    WHERE id = '62000000-0000-0000-0000-000000000001'$$, '23000', NULL,
                 'a real location change is still refused (with updated_at = now())');
SELECT throws_ok($$UPDATE photofactory.media_assets SET location = NULL, updated_at = now()
                    WHERE id = '62000000-0000-0000-0000-000000000001'$$, '23000', NULL,
                 'clearing a location is still refused');
SELECT lives_ok($$UPDATE photofactory.media_assets SET location = '{"lat": 1.0, "lon": 2}', updated_at = now()
                   WHERE id = '62000000-0000-0000-0000-000000000001'$$, 'an equal location is accepted');
SELECT is((SELECT location::text FROM photofactory.media_assets WHERE id = '62000000-0000-0000-0000-000000000001'),
          '{"lat": 1, "lon": 2}', '... and the stored spelling is kept byte for byte');
SELECT lives_ok($$UPDATE photofactory.media_assets SET location = '{"lat": 5, "lon": 6}', updated_at = now()
                   WHERE id = '62000000-0000-0000-0000-000000000003'$$, 'a NULL location may still be filled in');
UPDATE photofactory.media_assets SET geocoded_at = now(), updated_at = now()
 WHERE id = '62000000-0000-0000-0000-000000000002';
SELECT is((SELECT geocoded_at FROM photofactory.media_assets WHERE id = '62000000-0000-0000-0000-000000000002'),
          '2000-01-02'::timestamptz, 'an already geocoded asset keeps its first geocoded_at');
UPDATE photofactory.media_assets SET is_thumbnailed = true, thumbnailed_at = '1999-01-01', updated_at = now()
 WHERE id = '62000000-0000-0000-0000-000000000002';
SELECT is((SELECT thumbnailed_at = now() FROM photofactory.media_assets
            WHERE id = '62000000-0000-0000-0000-000000000002'), true,
          'a flag turning true gets now(), not the client''s timestamp');
UPDATE photofactory.media_assets SET updated_at = '1999-01-01', ingested_at = now(), created_at = now()
 WHERE id = '62000000-0000-0000-0000-000000000003';
SELECT results_eq($$SELECT updated_at = now(), ingested_at, created_at FROM photofactory.media_assets
                     WHERE id = '62000000-0000-0000-0000-000000000003'$$,
                  $$VALUES (true, '2000-01-01'::timestamptz, '2000-01-01'::timestamptz)$$,
                  'updated_at is the server''s, ingested_at and created_at are kept');
UPDATE photofactory.media_assets SET error_message = 'curation: odd', updated_at = now()
 WHERE id = '62000000-0000-0000-0000-000000000003';
SELECT is((SELECT has_errors FROM photofactory.media_assets WHERE id = '62000000-0000-0000-0000-000000000003'),
          true, 'an error message sets has_errors');
UPDATE photofactory.media_assets SET has_errors = false, updated_at = now()
 WHERE id = '62000000-0000-0000-0000-000000000002';
SELECT is((SELECT error_message FROM photofactory.media_assets WHERE id = '62000000-0000-0000-0000-000000000002'),
          NULL, 'turning has_errors off clears the message');
UPDATE photofactory.media_assets SET is_geocoded = false, updated_at = now()
 WHERE id = '62000000-0000-0000-0000-000000000001';
SELECT is((SELECT geocoded_at FROM photofactory.media_assets WHERE id = '62000000-0000-0000-0000-000000000001'),
          NULL, 'a flag turning false drops its timestamp');
SELECT is((SELECT count(*)::int FROM photofactory.media_assets WHERE id::text LIKE '62000000-%'
             AND NOT (is_geocoded = (geocoded_at IS NOT NULL) AND is_thumbnailed = (thumbnailed_at IS NOT NULL)
                      AND has_errors = (error_message IS NOT NULL))), 0,
          'every flag and its timestamp still move together');

-- The same UPDATEs, one after another, on the real table and on the copy whose
-- guard always fires: same outcome (error code or row) after every one.
CREATE TEMP TABLE g (LIKE photofactory.media_assets INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
INSERT INTO g SELECT * FROM photofactory.media_assets WHERE id::text LIKE '62000000-%';
CREATE TRIGGER g_guard BEFORE UPDATE ON g FOR EACH ROW EXECUTE FUNCTION photofactory._media_assets_guard();
CREATE FUNCTION pg_temp.apply(tab regclass, set_clause text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UPDATE %s SET %s WHERE id::text LIKE %L', tab, set_clause, '62000000-%');
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;
CREATE TEMP TABLE diffs (step int, what text);
DO $$
DECLARE
    s text;
    k int := 0;
    a text;
    b text;
BEGIN
    FOREACH s IN ARRAY ARRAY[
        'is_geocoded = true, geocoded_at = now(), updated_at = now()',
        'is_geocoded = true',
        'is_geocoded = false, geocoded_at = NULL, updated_at = now()',
        'is_geocoded = true, geocoded_at = ''1999-01-01'', updated_at = now()',
        'is_geocoded = NOT is_geocoded, updated_at = now()',
        'geocoded_at = now(), thumbnailed_at = now(), curated_at = now(), backed_up_at = now(), updated_at = now()',
        'is_curated = true, curated_at = now(), is_backed_up = true, backed_up_at = now(), updated_at = now()',
        'is_curated = false, curated_at = NULL, updated_at = ''2001-01-01''',
        'location = ''{"lat": 1, "lon": 3}'', updated_at = now()',
        'location = coalesce(location, ''{"lat": 7, "lon": 8}''), updated_at = now()',
        'location = ''{"lon": 2.0, "lat": 1}'', updated_at = now()',
        'location = NULL, updated_at = now()',
        'ingested_at = ''1999-01-01'', created_at = now(), updated_at = now()',
        'error_message = ''geocoder: x'', updated_at = now()',
        'error_message = ''geocoder: y'', has_errors = true, updated_at = now()',
        'has_errors = false, updated_at = now()',
        'error_message = NULL, has_errors = true, updated_at = now()',
        'error_message = ''z'', has_errors = false, updated_at = now()',
        'size_bytes = size_bytes + 1, updated_at = now()',
        'size_bytes = size_bytes + 1']
    LOOP
        k := k + 1;
        a := pg_temp.apply('photofactory.media_assets', s);
        b := pg_temp.apply('pg_temp.g', s);
        IF a <> b THEN
            INSERT INTO diffs VALUES (k, format('%s: %s vs %s', s, a, b));
        END IF;
        INSERT INTO diffs
        SELECT k, format('%s: row %s differs', s, m.id)
          FROM photofactory.media_assets AS m JOIN pg_temp.g AS c ON c.id = m.id
         WHERE m.id::text LIKE '62000000-%'
           AND m::text IS DISTINCT FROM c::text;
    END LOOP;
END
$$;
SELECT is_empty('SELECT step, what FROM diffs ORDER BY step',
                'twenty UPDATEs give the same rows and errors with and without the WHEN');

SELECT * FROM finish();
ROLLBACK;
