-- Claim semantics of the pending_* queues across two sessions: a second
-- session (through dblink, in the same database) never receives an asset the
-- first one has claimed and not yet committed.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS photofactory;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
\set VERBOSITY terse

TRUNCATE photofactory.media_assets;
SET session_replication_role = replica;
INSERT INTO photofactory.media_assets
       (id, file_hash, original_name, original_path, final_path, size_bytes, ingested_at, location)
SELECT ('00000000-0000-0000-0000-00000000000' || g)::uuid, repeat(g::text, 64), 'c' || g || '.jpg',
       '/i', '/s', g, timestamptz '2024-01-01 00:00+00' + g * interval '1 hour', '{"lat": 1, "lon": 1}'
  FROM generate_series(1, 5) AS g;
RESET session_replication_role;

-- The second session: this server, this database, this user, over the
-- server's own Unix socket.
SELECT dblink_connect('worker_b',
         format('host=%s port=%s dbname=%s user=%s',
                split_part(current_setting('unix_socket_directories'), ',', 1),
                current_setting('port'), current_database(), current_user)) AS connected;

-- Worker A claims the two oldest assets and keeps its transaction open.
BEGIN;
SELECT original_name FROM photofactory.pending_geocoding(2);

-- Worker B, meanwhile, asks for up to 10: it gets the other three, without
-- waiting for A.
SELECT dblink_exec('worker_b', 'BEGIN');
SELECT name FROM dblink('worker_b', 'SELECT original_name FROM photofactory.pending_geocoding(10)')
       AS t(name text);
-- The claimed rows are not hidden from ordinary readers, only from claimers.
SELECT n AS visible_to_b FROM dblink('worker_b', 'SELECT count(*) FROM photofactory.media_assets')
       AS t(n bigint);
-- A third worker, while A and B both hold their claims, gets nothing.
SELECT dblink_connect('worker_c',
         format('host=%s port=%s dbname=%s user=%s',
                split_part(current_setting('unix_socket_directories'), ',', 1),
                current_setting('port'), current_database(), current_user)) AS connected;
SELECT count(*) AS third_claim
  FROM dblink('worker_c', 'SELECT 1 FROM photofactory.pending_geocoding(10)') AS t(x int);
SELECT dblink_disconnect('worker_c');

-- A marks its two assets done and commits; B gives up its claim (rollback).
SELECT photofactory.mark_geocoded(ARRAY['00000000-0000-0000-0000-000000000001',
                                        '00000000-0000-0000-0000-000000000002']::uuid[]) AS a_marked;
COMMIT;
SELECT dblink_exec('worker_b', 'ROLLBACK');

-- A's work is done for good; B's unfinished claims are back in the queue.
SELECT name FROM dblink('worker_b', 'SELECT original_name FROM photofactory.pending_geocoding(10)')
       AS t(name text);

-- Claims are per queue row lock: while B holds c3 for geocoding, marking it
-- from A waits (here: gives up after a short lock_timeout) instead of racing.
SELECT dblink_exec('worker_b', 'BEGIN');
SELECT name FROM dblink('worker_b', 'SELECT original_name FROM photofactory.pending_geocoding(1)')
       AS t(name text);
BEGIN;
SET LOCAL lock_timeout = '200ms';
SELECT photofactory.mark_geocoded('00000000-0000-0000-0000-000000000003'::uuid);
ROLLBACK;
SELECT dblink_exec('worker_b', 'ROLLBACK');

SELECT dblink_disconnect('worker_b');
DROP EXTENSION dblink;
TRUNCATE photofactory.media_assets;
