-- Rules enforced by the database on media_assets, system_status(_history)
-- and inbox_events. Everything runs in one transaction and is rolled back.
BEGIN;
SELECT plan(68);

-- A helper to insert an asset with only what matters to a test.
CREATE FUNCTION pg_temp.asset(p_id uuid, p_hash text, p_location jsonb DEFAULT NULL) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO photofactory.media_assets (id, file_hash, original_name, original_path, final_path, size_bytes, location)
    VALUES (p_id, p_hash, 'tap.jpg', '/inbox/tap.jpg', '/storage/Originals/2024/2024-01-01/tap.jpg', 1, p_location)
$$;

-- file_hash
SELECT lives_ok($$SELECT pg_temp.asset('10000000-0000-0000-0000-000000000001', repeat('0123456789abcdef', 4))$$,
                'a lower-case 64-digit hex hash is accepted');
SELECT throws_ok($$SELECT pg_temp.asset(gen_random_uuid(), repeat('0123456789ABCDEF', 4))$$, '23514', NULL,
                 'an upper-case hash is rejected');
SELECT throws_ok($$SELECT pg_temp.asset(gen_random_uuid(), repeat('a', 63))$$, '23514', NULL,
                 'a 63-digit hash is rejected');
SELECT throws_ok($$SELECT pg_temp.asset(gen_random_uuid(), repeat('z', 64))$$, '23514', NULL,
                 'a non-hex hash is rejected');
SELECT throws_ok($$SELECT pg_temp.asset(gen_random_uuid(), repeat('0123456789abcdef', 4))$$, '23505', NULL,
                 'a duplicate hash is rejected');

-- location shape and range
SELECT lives_ok(format($$SELECT pg_temp.asset(gen_random_uuid(), %L, %L)$$, repeat(d, 64), l),
                format('location %s is accepted', l))
  FROM (VALUES ('1', '{"lat": 35.6762, "lon": 139.6503}'), ('2', '{"lat": -90, "lon": -180}'),
               ('3', '{"lat": 90, "lon": 180}')) AS v(d, l);
SELECT throws_ok(format($$SELECT pg_temp.asset(gen_random_uuid(), %L, %L)$$, repeat('4', 64), l), '23514', NULL,
                 format('location %s is rejected', l))
  FROM unnest(ARRAY['{"lat": 90.5, "lon": 0}', '{"lat": 0, "lon": 180.5}', '{"lat": -91, "lon": 0}',
                    '{"lat": "1", "lon": 2}', '{"lat": 1}', '{"lat": 1, "lon": 2, "alt": 0}',
                    '{"latitude": 1, "longitude": 2}', '[1, 2]', '"here"', '{}']) AS l;

-- location immutability
SELECT pg_temp.asset('10000000-0000-0000-0000-000000000002', repeat('5', 64));
SELECT lives_ok($$UPDATE photofactory.media_assets SET location = '{"lat": 1, "lon": 2}'
                   WHERE id = '10000000-0000-0000-0000-000000000002'$$, 'a NULL location may be set');
SELECT throws_ok($$UPDATE photofactory.media_assets SET location = '{"lat": 1, "lon": 3}'
                    WHERE id = '10000000-0000-0000-0000-000000000002'$$, '23000',
                 'location of media asset 10000000-0000-0000-0000-000000000002 is immutable once set',
                 'a set location cannot change');
SELECT throws_ok($$UPDATE photofactory.media_assets SET location = NULL
                    WHERE id = '10000000-0000-0000-0000-000000000002'$$, '23000', NULL,
                 'a set location cannot be cleared');
SELECT lives_ok($$UPDATE photofactory.media_assets SET location = '{"lon": 2.0, "lat": 1.0}'
                   WHERE id = '10000000-0000-0000-0000-000000000002'$$, 'an equal location is a no-op');
SELECT is(location, '{"lat": 1, "lon": 2}'::jsonb, 'the stored location is unchanged')
  FROM photofactory.media_assets WHERE id = '10000000-0000-0000-0000-000000000002';

-- flags and timestamps
SELECT lives_ok($$UPDATE photofactory.media_assets SET is_geocoded = true
                   WHERE id = '10000000-0000-0000-0000-000000000002'$$, 'plain UPDATE of is_geocoded works');
SELECT is(geocoded_at, now(), 'geocoded_at is set by the server') FROM photofactory.media_assets
 WHERE id = '10000000-0000-0000-0000-000000000002';
SELECT lives_ok($$UPDATE photofactory.media_assets SET is_geocoded = false
                   WHERE id = '10000000-0000-0000-0000-000000000002'$$, 'a flag can be turned off');
SELECT ok(geocoded_at IS NULL, 'turning the flag off clears geocoded_at') FROM photofactory.media_assets
 WHERE id = '10000000-0000-0000-0000-000000000002';
SELECT lives_ok($$UPDATE photofactory.media_assets SET is_thumbnailed = true, is_curated = true, is_backed_up = true
                   WHERE id = '10000000-0000-0000-0000-000000000002'$$, 'the other flags can be set');
SELECT ok(thumbnailed_at = now() AND curated_at = now() AND backed_up_at = now(), 'their timestamps follow')
  FROM photofactory.media_assets WHERE id = '10000000-0000-0000-0000-000000000002';
SET LOCAL session_replication_role = replica;
SELECT throws_ok($$UPDATE photofactory.media_assets SET is_backed_up = false
                    WHERE id = '10000000-0000-0000-0000-000000000002'$$, '23514', NULL,
                 'with the trigger bypassed, the CHECK still ties is_backed_up to backed_up_at');
SELECT throws_ok($$UPDATE photofactory.media_assets SET error_message = 'x'
                    WHERE id = '10000000-0000-0000-0000-000000000002'$$, '23514', NULL,
                 'with the trigger bypassed, the CHECK still ties has_errors to error_message');
SET LOCAL session_replication_role = origin;

-- server-set created_at / ingested_at / updated_at
INSERT INTO photofactory.media_assets (id, file_hash, original_name, original_path, final_path, size_bytes,
                                       ingested_at, created_at, updated_at)
VALUES ('10000000-0000-0000-0000-000000000003', repeat('6', 64), 'a', '/a', '/b', 0,
        '2001-01-01', '2001-01-01', '2001-01-01');
SELECT ok(ingested_at = now() AND created_at = now() AND updated_at = now(),
          'client values for ingested_at, created_at and updated_at are replaced by the server''s')
  FROM photofactory.media_assets WHERE id = '10000000-0000-0000-0000-000000000003';
UPDATE photofactory.media_assets SET created_at = '2001-01-01', ingested_at = '2001-01-01'
 WHERE id = '10000000-0000-0000-0000-000000000003';
SELECT ok(ingested_at = now() AND created_at = now(), 'ingested_at and created_at cannot be rewritten')
  FROM photofactory.media_assets WHERE id = '10000000-0000-0000-0000-000000000003';
SELECT is(is_ingested, true, 'is_ingested defaults to true')
  FROM photofactory.media_assets WHERE id = '10000000-0000-0000-0000-000000000003';

-- other columns
SELECT throws_ok($$UPDATE photofactory.media_assets SET size_bytes = -1
                    WHERE id = '10000000-0000-0000-0000-000000000003'$$, '23514', NULL, 'size_bytes >= 0');
SELECT throws_ok($$UPDATE photofactory.media_assets SET original_name = repeat('x', 513)
                    WHERE id = '10000000-0000-0000-0000-000000000003'$$, '22001', NULL,
                 'original_name is at most 512 characters');
SELECT throws_ok($$UPDATE photofactory.media_assets SET has_errors = true
                    WHERE id = '10000000-0000-0000-0000-000000000003'$$, '23514', NULL,
                 'has_errors needs an error_message');
SELECT throws_ok(format($$UPDATE photofactory.media_assets SET %s WHERE id = '10000000-0000-0000-0000-000000000003'$$, s),
                 '23514', NULL, format('SET %s is rejected', s))
  FROM unnest(ARRAY['utc_offset_minutes = 901', 'utc_offset_minutes = -901', 'date_source = ''exif''',
                    'media_kind = ''audio''', 'media_format = ''JPEG''']) AS s;
SELECT lives_ok(format($$UPDATE photofactory.media_assets SET date_source = %L WHERE id = '10000000-0000-0000-0000-000000000003'$$, d),
                format('date_source %s is accepted', d))
  FROM unnest(ARRAY['exif_original', 'exif_digitized', 'exif_image', 'xmp', 'iptc', 'makernote', 'video_local', 'video_utc',
                    'filename', 'mtime']) AS d;
SELECT lives_ok(format($$UPDATE photofactory.media_assets SET time_zone = %L WHERE id = '10000000-0000-0000-0000-000000000003'$$, z),
                format('time_zone %s is accepted', coalesce(z, 'NULL')))
  FROM unnest(ARRAY['file', 'gps:Europe/Berlin', 'default:Etc/GMT+9', 'paired', NULL]) AS z;
SELECT throws_ok(format($$UPDATE photofactory.media_assets SET time_zone = %L WHERE id = '10000000-0000-0000-0000-000000000003'$$, z),
                 '23514', NULL, format('time_zone %s is rejected', z))
  FROM unnest(ARRAY['Europe/Berlin', 'gps:']) AS z;

-- system_status / system_status_history
SELECT throws_ok($$INSERT INTO photofactory.system_status (service_name, status) VALUES ('tap-svc', 'FINE')$$,
                 '23514', NULL, 'system_status.status must be OK, ERROR or WARNING');
SELECT throws_ok($$INSERT INTO photofactory.system_status (service_name) VALUES ('')$$,
                 '23514', NULL, 'system_status.service_name must not be empty');
SELECT throws_ok($$INSERT INTO photofactory.system_status_history (service_name, status) VALUES ('tap-svc', 'ok')$$,
                 '23514', NULL, 'system_status_history.status must be OK, ERROR or WARNING');
INSERT INTO photofactory.system_status (service_name, last_heartbeat, updated_at) VALUES ('tap-svc', '2001-01-01', '2001-01-01');
SELECT ok(last_heartbeat = now() AND updated_at = now(), 'system_status timestamps are the server''s')
  FROM photofactory.system_status WHERE service_name = 'tap-svc';

-- inbox_events
SELECT throws_ok($$INSERT INTO photofactory.inbox_events (outcome, original_name, original_path) VALUES ('lost', 'a', '/a')$$,
                 '23514', NULL, 'inbox_events.outcome is ingested, duplicate or rejected');
SELECT throws_ok($$INSERT INTO photofactory.inbox_events (outcome, original_name, original_path, file_hash, asset_id)
                   VALUES ('ingested', 'a', '/a', 'abc', gen_random_uuid())$$,
                 '23514', NULL, 'inbox_events.file_hash has the same format as media_assets.file_hash');
SELECT throws_ok($$INSERT INTO photofactory.inbox_events (outcome, original_name, original_path) VALUES ('duplicate', 'a', '/a')$$,
                 '23514', NULL, 'a duplicate event names its hash and the asset it duplicates');
SELECT lives_ok($$INSERT INTO photofactory.inbox_events (outcome, original_name, original_path, stored_path, reason)
                  VALUES ('rejected', 'notes.txt', '/inbox/notes.txt', 'Rejected/2024-01-01/notes.txt', 'not media')$$,
                'a rejected event needs neither hash nor asset');

-- asset_sidecars: only the sidecar kinds the librarian stores.
SELECT throws_ok($$INSERT INTO photofactory.asset_sidecars (asset_id, kind, file_hash, original_name, original_path, final_path, size_bytes)
                   VALUES (gen_random_uuid(), 'doc', repeat('a', 64), 'x', 'x', 'x', 1)$$, '23514', NULL,
                 'sidecar kind is checked');

SELECT * FROM finish();
ROLLBACK;
