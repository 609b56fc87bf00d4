-- Rules the database itself enforces on media_assets, system_status,
-- system_status_history and inbox_events: each accepts good input and rejects
-- bad input with a clear error.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS photofactory;
RESET client_min_messages;
-- Terse errors: a violation's DETAIL prints the whole row (generated ids,
-- timestamps); the constraint name in the message is what matters here.
\set VERBOSITY terse

TRUNCATE photofactory.media_assets;

-- A valid row; the server fills id, timestamps and defaults.
INSERT INTO photofactory.media_assets
       (id, file_hash, original_name, original_path, final_path, size_bytes, captured_at, location)
VALUES ('00000000-0000-0000-0000-000000000001', repeat('a', 64), 'IMG_1.jpg',
        '/inbox/IMG_1.jpg', '/storage/Originals/2023/2023-12-25/IMG_1.jpg', 5242880,
        '2023-12-25 12:34:56', '{"lat": 35.6762, "lon": 139.6503}')
RETURNING is_ingested, is_geocoded, is_thumbnailed, is_curated, is_backed_up, has_errors,
          geocoded_at, thumbnailed_at, curated_at, backed_up_at, captured_at, location;

-- file_hash: 64 lower-case hex digits, unique.
INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes)
VALUES (repeat('A', 64), 'x', '/i/x', '/s/x', 1);
INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes)
VALUES (repeat('a', 63), 'x', '/i/x', '/s/x', 1);
INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes)
VALUES (repeat('g', 64), 'x', '/i/x', '/s/x', 1);
INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes)
VALUES (repeat('a', 63) || E'\n', 'x', '/i/x', '/s/x', 1);
INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes)
VALUES (repeat('a', 64), 'dup', '/i/dup', '/s/dup', 1);
-- size_bytes >= 0; original_name at most 512 characters; NOT NULL columns.
INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes)
VALUES (repeat('b', 64), 'x', '/i/x', '/s/x', -1);
INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes)
VALUES (repeat('b', 64), repeat('n', 513), '/i/x', '/s/x', 1);
INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes)
VALUES (repeat('b', 64), 'x', '/i/x', NULL, 1);

-- location: NULL or exactly {"lat": number, "lon": number} within range.
SELECT v AS location, photofactory.is_valid_location(v::jsonb) AS valid
  FROM (VALUES ('{"lat": 0, "lon": 0}'), ('{"lat": -90, "lon": 180}'), ('{"lat": 90, "lon": -180}'),
               ('{"lon": 2.5, "lat": 1.5}'), ('{"lat": 90.0001, "lon": 0}'), ('{"lat": 0, "lon": -180.5}'),
               ('{"lat": "1", "lon": 2}'), ('{"lat": 1}'), ('{"lon": 1}'), ('{}'),
               ('{"lat": 1, "lon": 2, "alt": 3}'), ('{"lat": null, "lon": 2}'), ('[1, 2]'),
               ('"1,2"'), ('42'), ('null'), ('{"lat": true, "lon": 2}'), ('{"lat": 1e400, "lon": 0}')) AS t(v);
SELECT photofactory.is_valid_location(NULL) AS null_is_not_a_location;
INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes, location)
VALUES (repeat('b', 64), 'x', '/i/x', '/s/x', 1, '{"lat": 91, "lon": 0}');
INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes, location)
VALUES (repeat('b', 64), 'x', '/i/x', '/s/x', 1, '{"lat": 1, "lon": 2, "city": "Tokyo"}');
INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes, location)
VALUES (repeat('b', 64), 'x', '/i/x', '/s/x', 1, '{"lat": "35.6", "lon": 139.6}');
INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes, location)
VALUES (repeat('b', 64), 'x', '/i/x', '/s/x', 1, '[35.6, 139.6]');

-- location is immutable once set: changing or clearing it fails, an equal
-- value is a no-op (the stored spelling is kept), NULL -> value works once.
-- (Full verbosity, without CONTEXT: this error's DETAIL and HINT are ours.)
\set VERBOSITY default
\set SHOW_CONTEXT never
UPDATE photofactory.media_assets SET location = '{"lat": 0, "lon": 0}'
 WHERE id = '00000000-0000-0000-0000-000000000001';
UPDATE photofactory.media_assets SET location = NULL
 WHERE id = '00000000-0000-0000-0000-000000000001';
UPDATE photofactory.media_assets SET location = '{"lon": 139.65030, "lat": 35.67620}'
 WHERE id = '00000000-0000-0000-0000-000000000001';
SELECT location FROM photofactory.media_assets WHERE id = '00000000-0000-0000-0000-000000000001';
INSERT INTO photofactory.media_assets (id, file_hash, original_name, original_path, final_path, size_bytes)
VALUES ('00000000-0000-0000-0000-000000000002', repeat('b', 64), 'IMG_2.jpg', '/i/IMG_2.jpg', '/s/IMG_2.jpg', 2);
UPDATE photofactory.media_assets SET location = '{"lat": 48.8566, "lon": 2.3522}'
 WHERE id = '00000000-0000-0000-0000-000000000002';
UPDATE photofactory.media_assets SET location = '{"lat": 48.8566, "lon": 2.3523}'
 WHERE id = '00000000-0000-0000-0000-000000000002';

\set VERBOSITY terse

-- Server-set timestamps: client values for ingested_at/created_at/updated_at
-- and *_at are overridden on INSERT; flags drive their timestamps.
BEGIN;
INSERT INTO photofactory.media_assets
       (id, file_hash, original_name, original_path, final_path, size_bytes,
        ingested_at, created_at, updated_at, is_geocoded, geocoded_at, thumbnailed_at)
VALUES ('00000000-0000-0000-0000-000000000004', repeat('c', 64), 'IMG_4.jpg', '/i/IMG_4.jpg', '/s/IMG_4.jpg', 4,
        '2000-01-01', '2000-01-01', '2000-01-01', true, '2000-01-01', '2000-01-01')
RETURNING ingested_at = now() AS ingested_now, created_at = now() AS created_now,
          updated_at = now() AS updated_now, geocoded_at = now() AS geocoded_now,
          thumbnailed_at IS NULL AS not_thumbnailed;
COMMIT;

-- UPDATE: updated_at moves, ingested_at/created_at stay, X_at follows is_X and
-- the first X_at is kept when the flag is set again.
SELECT ingested_at AS ingested_before, created_at AS created_before, updated_at AS updated_before,
       geocoded_at AS geocoded_before
  FROM photofactory.media_assets WHERE id = '00000000-0000-0000-0000-000000000004' \gset
UPDATE photofactory.media_assets
   SET is_thumbnailed = true, is_geocoded = true, ingested_at = now() + interval '1 day',
       created_at = '1999-01-01', geocoded_at = '1999-01-01'
 WHERE id = '00000000-0000-0000-0000-000000000004'
RETURNING ingested_at = :'ingested_before' AS ingested_kept, created_at = :'created_before' AS created_kept,
          updated_at > :'updated_before' AS updated_moved, geocoded_at = :'geocoded_before' AS first_geocoded_kept,
          thumbnailed_at = now() AS thumbnailed_now;
UPDATE photofactory.media_assets SET is_geocoded = false
 WHERE id = '00000000-0000-0000-0000-000000000004'
RETURNING is_geocoded, geocoded_at;
-- Plain UPDATEs of each flag work; the pairs stay consistent.
UPDATE photofactory.media_assets SET is_curated = true, is_backed_up = true
 WHERE id = '00000000-0000-0000-0000-000000000004'
RETURNING curated_at IS NOT NULL AS curated_set, backed_up_at IS NOT NULL AS backed_up_set;
UPDATE photofactory.media_assets SET is_curated = false, is_backed_up = false, is_thumbnailed = false
 WHERE id = '00000000-0000-0000-0000-000000000004'
RETURNING curated_at, backed_up_at, thumbnailed_at;

-- The CHECKs hold even when the trigger is bypassed (replica mode).
SET session_replication_role = replica;
INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes, is_geocoded)
VALUES (repeat('d', 64), 'x', '/i/x', '/s/x', 1, true);
INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes, backed_up_at)
VALUES (repeat('d', 64), 'x', '/i/x', '/s/x', 1, now());
INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes, error_message)
VALUES (repeat('d', 64), 'x', '/i/x', '/s/x', 1, 'oops');
RESET session_replication_role;

-- has_errors = (error_message IS NOT NULL): a message implies the flag,
-- clearing the flag clears the message, a flag without a message is refused.
INSERT INTO photofactory.media_assets
       (id, file_hash, original_name, original_path, final_path, size_bytes, error_message)
VALUES ('00000000-0000-0000-0000-000000000005', repeat('e', 64), 'IMG_5.jpg', '/i/IMG_5.jpg', '/s/IMG_5.jpg', 5,
        'metadata: truncated EXIF')
RETURNING has_errors, error_message;
UPDATE photofactory.media_assets SET has_errors = false
 WHERE id = '00000000-0000-0000-0000-000000000005'
RETURNING has_errors, error_message;
UPDATE photofactory.media_assets SET has_errors = true
 WHERE id = '00000000-0000-0000-0000-000000000005';
UPDATE photofactory.media_assets SET error_message = 'thumbnailer: decode failed'
 WHERE id = '00000000-0000-0000-0000-000000000005'
RETURNING has_errors, error_message;
UPDATE photofactory.media_assets SET error_message = '   '
 WHERE id = '00000000-0000-0000-0000-000000000005';
UPDATE photofactory.media_assets SET error_message = NULL
 WHERE id = '00000000-0000-0000-0000-000000000005'
RETURNING has_errors, error_message;

-- Extra columns.
UPDATE photofactory.media_assets
   SET utc_offset_minutes = 540, date_source = 'exif_original', media_kind = 'image', media_format = 'jpeg'
 WHERE id = '00000000-0000-0000-0000-000000000001'
RETURNING utc_offset_minutes, date_source, media_kind, media_format;
UPDATE photofactory.media_assets SET utc_offset_minutes = -901 WHERE id = '00000000-0000-0000-0000-000000000001';
UPDATE photofactory.media_assets SET utc_offset_minutes = 901 WHERE id = '00000000-0000-0000-0000-000000000001';
UPDATE photofactory.media_assets SET date_source = 'exif' WHERE id = '00000000-0000-0000-0000-000000000001';
UPDATE photofactory.media_assets SET media_kind = 'audio' WHERE id = '00000000-0000-0000-0000-000000000001';
UPDATE photofactory.media_assets SET media_format = 'JPEG' WHERE id = '00000000-0000-0000-0000-000000000001';
UPDATE photofactory.media_assets SET media_format = '' WHERE id = '00000000-0000-0000-0000-000000000001';
-- Every documented date_source is accepted.
DO $$
DECLARE
    v text;
BEGIN
    FOREACH v IN ARRAY ARRAY['exif_original', 'exif_digitized', 'exif_image', 'xmp', 'iptc', 'makernote',
                             'video_local', 'video_utc', 'filename', 'mtime'] LOOP
        UPDATE photofactory.media_assets SET date_source = v
         WHERE id = '00000000-0000-0000-0000-000000000001';
    END LOOP;
END
$$;

-- system_status: status vocabulary, non-empty name, server-set timestamps.
INSERT INTO photofactory.system_status (service_name, status) VALUES ('svc', 'ok');
INSERT INTO photofactory.system_status (service_name, status) VALUES ('svc', 'BROKEN');
INSERT INTO photofactory.system_status (service_name) VALUES ('  ');
INSERT INTO photofactory.system_status (service_name) VALUES (repeat('s', 65));
BEGIN;
INSERT INTO photofactory.system_status (service_name, last_heartbeat, updated_at)
VALUES ('svc', '2000-01-01', '2000-01-01')
RETURNING status, last_heartbeat = now() AS heartbeat_now, updated_at = now() AS updated_now;
COMMIT;
DELETE FROM photofactory.system_status;

-- system_status_history: same vocabulary; created_at is the server's,
-- heartbeat_timestamp may be supplied; id is generated.
BEGIN;
INSERT INTO photofactory.system_status_history (service_name, status, heartbeat_timestamp, created_at)
VALUES ('svc', 'WARNING', '2024-01-01 00:00+00', '2000-01-01')
RETURNING heartbeat_timestamp = '2024-01-01 00:00+00' AS heartbeat_kept, created_at = now() AS created_now;
COMMIT;
INSERT INTO photofactory.system_status_history (service_name, status) VALUES ('svc', 'Ok');
INSERT INTO photofactory.system_status_history (id, service_name, status) VALUES (1, 'svc', 'OK');
DELETE FROM photofactory.system_status_history;

-- inbox_events.
INSERT INTO photofactory.inbox_events (outcome, original_name, original_path, stored_path, file_hash, size_bytes, asset_id)
VALUES ('ingested', 'IMG_1.jpg', '/inbox/IMG_1.jpg', 'Originals/2023/2023-12-25/IMG_1.jpg', repeat('a', 64), 10,
        '00000000-0000-0000-0000-000000000001')
RETURNING outcome, stored_path;
INSERT INTO photofactory.inbox_events (outcome, original_name, original_path, stored_path, file_hash, asset_id, reason)
VALUES ('duplicate', 'IMG_1 (copy).jpg', '/inbox/IMG_1 (copy).jpg', 'Duplicates/2023-12-25/IMG_1 (copy).jpg',
        repeat('a', 64), '00000000-0000-0000-0000-000000000001', 'same content as IMG_1.jpg')
RETURNING outcome, stored_path;
INSERT INTO photofactory.inbox_events (outcome, original_name, original_path, stored_path, reason)
VALUES ('rejected', 'notes.txt', '/inbox/notes.txt', 'Rejected/2024-01-01/notes.txt', 'unsupported: not a photo or video')
RETURNING outcome, stored_path;
INSERT INTO photofactory.inbox_events (outcome, original_name, original_path) VALUES ('lost', 'a', '/a');
INSERT INTO photofactory.inbox_events (outcome, original_name, original_path, file_hash, asset_id)
VALUES ('ingested', 'a', '/a', repeat('F', 64), '00000000-0000-0000-0000-000000000001');
INSERT INTO photofactory.inbox_events (outcome, original_name, original_path, file_hash)
VALUES ('ingested', 'a', '/a', repeat('f', 64));
INSERT INTO photofactory.inbox_events (outcome, original_name, original_path, size_bytes)
VALUES ('rejected', 'a', '/a', -5);
INSERT INTO photofactory.inbox_events (outcome, original_name, original_path) VALUES ('rejected', NULL, '/a');
-- "What happened to my file IMG_1.jpg?"
SELECT outcome, stored_path, reason
  FROM photofactory.inbox_events WHERE original_name LIKE 'IMG_1%' ORDER BY id;
-- asset_sidecars: only the sidecar kinds the librarian stores.
INSERT INTO photofactory.asset_sidecars (asset_id, kind, file_hash, original_name, original_path, final_path, size_bytes)
VALUES (gen_random_uuid(), 'doc', repeat('a', 64), 'x', 'x', 'x', 1);

TRUNCATE photofactory.media_assets, photofactory.inbox_events;
