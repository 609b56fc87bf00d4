-- Heartbeats, the service_health view, history retention and its scheduling
-- when pg_cron is absent (as in this database).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS photofactory;
RESET client_min_messages;
\set VERBOSITY terse

CREATE FUNCTION pg_temp.try(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

DELETE FROM photofactory.system_status;
DELETE FROM photofactory.system_status_history;

-- One heartbeat: upserts the status row (returned) and appends history.
-- Status is accepted in any case and stored upper-case; defaults OK / NULL.
BEGIN;
SELECT service_name, status, current_task, last_heartbeat = now() AS heartbeat_now, updated_at = now() AS updated_now
  FROM photofactory.heartbeat('librarian', 'ok', 'Processing files in Photos_Inbox');
COMMIT;
SELECT service_name, status, current_task FROM photofactory.heartbeat('librarian');
SELECT service_name, status, current_task FROM photofactory.heartbeat('librarian', 'Warning', 'Disk 92% full');
SELECT service_name, status, current_task FROM photofactory.heartbeat(service => 'dashboard', task => 'Dashboard running');
SELECT service_name, status, current_task FROM photofactory.system_status ORDER BY service_name;
SELECT service_name, status, current_task, created_at >= heartbeat_timestamp AS created_after_heartbeat
  FROM photofactory.system_status_history ORDER BY id;
-- The history row carries the same timestamp as the status row.
SELECT bool_and(h.heartbeat_timestamp = s.last_heartbeat) AS same_timestamp
  FROM photofactory.system_status s
  JOIN LATERAL (SELECT heartbeat_timestamp FROM photofactory.system_status_history h
                 WHERE h.service_name = s.service_name ORDER BY id DESC LIMIT 1) h ON true;

-- Bad input.
SELECT pg_temp.try(stmt) AS result
  FROM unnest(ARRAY[
        $$SELECT photofactory.heartbeat(NULL)$$,
        $$SELECT photofactory.heartbeat('')$$,
        $$SELECT photofactory.heartbeat('   ')$$,
        $$SELECT photofactory.heartbeat(repeat('s', 65))$$,
        $$SELECT photofactory.heartbeat('librarian', NULL)$$,
        $$SELECT photofactory.heartbeat('librarian', 'DEGRADED')$$,
        $$SELECT photofactory.heartbeat('librarian', '')$$]) WITH ORDINALITY AS s(stmt, n)
 ORDER BY n;
SELECT length(service_name) FROM photofactory.heartbeat(repeat('s', 64));
-- A failed call leaves no trace.
SELECT count(*) AS history_rows FROM photofactory.system_status_history;

-- service_health: age of the last heartbeat and its colour (green <= 60 s,
-- yellow <= 180 s, red beyond). Replica mode lets the test backdate
-- heartbeats; inside one transaction now() is fixed, so ages are exact.
DELETE FROM photofactory.system_status;
BEGIN;
SET LOCAL session_replication_role = replica;
INSERT INTO photofactory.system_status (service_name, status, current_task, last_heartbeat, updated_at)
VALUES ('s0-now', 'OK', NULL, now(), now()),
       ('s1-59s', 'OK', NULL, now() - interval '59 seconds', now()),
       ('s2-60s', 'OK', NULL, now() - interval '60 seconds', now()),
       ('s3-61s', 'WARNING', 'slow', now() - interval '61 seconds', now()),
       ('s4-180s', 'OK', NULL, now() - interval '180 seconds', now()),
       ('s5-181s', 'ERROR', 'crashed', now() - interval '181 seconds', now()),
       ('s6-2d', 'OK', NULL, now() - interval '2 days 0.5 seconds', now());
SET LOCAL session_replication_role = origin;
SELECT service_name, status, current_task, age, age_seconds, colour
  FROM photofactory.service_health ORDER BY service_name;
COMMIT;
DELETE FROM photofactory.system_status;

-- Retention: rows older than the retention are deleted, the count returned.
-- Default: photofactory.history_retention (60 days unless configured), or 60
-- days when the library is not loaded.
DELETE FROM photofactory.system_status_history;
INSERT INTO photofactory.system_status_history (service_name, status, heartbeat_timestamp)
VALUES ('librarian', 'OK', now() - interval '90 days'),
       ('librarian', 'OK', now() - interval '61 days'),
       ('librarian', 'OK', now() - interval '59 days'),
       ('librarian', 'OK', now() - interval '2 hours'),
       ('dashboard', 'OK', now() - interval '30 minutes'),
       ('dashboard', 'OK', now());
SELECT photofactory.cleanup_history() AS deleted_default;
SELECT photofactory.cleanup_history() AS deleted_again;
SELECT photofactory.cleanup_history('1 day') AS deleted_1_day;
SELECT photofactory.cleanup_history(retention => '1 hour') AS deleted_1_hour;
SELECT service_name, now() - heartbeat_timestamp < interval '1 hour' AS recent
  FROM photofactory.system_status_history ORDER BY id;
SELECT pg_temp.try(stmt) AS result
  FROM unnest(ARRAY[
        $$SELECT photofactory.cleanup_history('0 seconds')$$,
        $$SELECT photofactory.cleanup_history('-1 day')$$,
        $$SELECT photofactory.cleanup_history('1 mon -30 days')$$]) WITH ORDINALITY AS s(stmt, n)
 ORDER BY n;
DELETE FROM photofactory.system_status_history;

-- Scheduling without pg_cron: a clear error with a hint (full verbosity).
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT photofactory.schedule_retention();
SELECT photofactory.schedule_retention('0 4 * * *');
SELECT photofactory.unschedule_retention();
\set VERBOSITY terse
SELECT pg_temp.try(stmt) AS result
  FROM unnest(ARRAY[
        $$SELECT photofactory.schedule_retention(NULL)$$,
        $$SELECT photofactory.schedule_retention(' ')$$]) WITH ORDINALITY AS s(stmt, n)
 ORDER BY n;
