-- The C++ -> PostgreSQL error boundary, seen from SQL: every exception the
-- core throws becomes a clean ERROR with a SQLSTATE, and the session (and the
-- server) carry on. Files are written by the server itself (COPY, lo_export).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS photofactory;
\set VERBOSITY terse

-- Argument checks happen before any core code runs.
SELECT photofactory.inspect_file(NULL);
SELECT photofactory.inspect_file('relative/path.jpg');
SELECT photofactory.inspect_file('/nonexistent/photofactory/IMG_0001.JPG');

-- RejectError(Empty) from the core.
COPY (SELECT 1 WHERE false) TO '/tmp/pf_regress_empty.jpg';
SELECT photofactory.inspect_file('/tmp/pf_regress_empty.jpg');
SELECT 'session still usable' AS after_empty;

-- RejectError(NotMedia): a text file named like a photo.
COPY (SELECT 'shopping list') TO '/tmp/pf_regress_notes.jpg';
SELECT photofactory.inspect_file('/tmp/pf_regress_notes.jpg');

-- RejectError(NotRegularFile): a directory.
SELECT photofactory.inspect_file('/tmp');

-- Errors inside a transaction roll back like any other error.
BEGIN;
SELECT photofactory.inspect_file('/tmp/pf_regress_empty.jpg');
ROLLBACK;

-- A real video: facts read from its boxes (mvhd creation time is UTC).
SET TimeZone = 'UTC';
SELECT lo_from_bytea(4242421, decode('0000001c6674797069736f6d0000020069736f6d69736f326d703431000000486d646174000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000009a6d6f6f760000006c6d76686400000000e0eee388e0eee388000003e800001388000100000100000000000000000000000001000000000000000000000000000000010000000000000000000000000000400000000000000000000000000000000000000000000000000000000000000200000026756474610000001ea978797a001215c72b34382e383538342b3030322e323934352f', 'hex')) AS oid;
SELECT lo_export(4242421, '/tmp/pf_regress_clip.mp4') AS exported;
-- captured_at is wall-clock time in photofactory.default_timezone (or the
-- session's zone); minus its offset it must be the file's UTC instant.
SELECT j->>'media_kind' AS kind, j->>'media_format' AS format,
       (j->>'captured_at')::timestamp - (j->>'utc_offset_minutes')::int * interval '1 minute' AS captured_utc,
       j->>'date_source' AS source, j->'location' AS location, j->>'destination' AS destination,
       j->>'sha256' = encode(sha256(decode('0000001c6674797069736f6d0000020069736f6d69736f326d703431000000486d646174000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000009a6d6f6f760000006c6d76686400000000e0eee388e0eee388000003e800001388000100000100000000000000000000000001000000000000000000000000000000010000000000000000000000000000400000000000000000000000000000000000000000000000000000000000000200000026756474610000001ea978797a001215c72b34382e383538342b3030322e323934352f', 'hex')), 'hex') AS hash_matches
  FROM photofactory.inspect_file('/tmp/pf_regress_clip.mp4') AS j;
-- Its only time is UTC (mvhd) and it has a GPS position near Paris: the zone
-- comes from the position (zone1970.tab), resolved by PostgreSQL's zone code.
SELECT j->>'time_zone' AS time_zone, j->>'captured_at' AS captured_at,
       j->>'utc_offset_minutes' AS utc_offset, j->>'utc_epoch' AS utc_epoch
  FROM photofactory.inspect_file('/tmp/pf_regress_clip.mp4') AS j;
SELECT lo_unlink(4242421);
