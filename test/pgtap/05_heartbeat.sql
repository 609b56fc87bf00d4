-- heartbeat(): upsert of system_status plus one history row per call; the
-- service_health view; cleanup_history(). Service names are unique to this
-- test so that the photofactory workers heartbeating in this database (if
-- any) do not interfere.
BEGIN;
SELECT plan(21);

SELECT lives_ok($$SELECT photofactory.heartbeat('tap-hb', 'ok', 'first')$$, 'first heartbeat');
SELECT results_eq($$SELECT service_name::text, status::text, current_task FROM photofactory.system_status
                     WHERE service_name = 'tap-hb'$$,
                  $$VALUES ('tap-hb', 'OK', 'first')$$, 'the status row is inserted, status upper-cased');
SELECT is(count(*), 1::bigint, 'one history row') FROM photofactory.system_status_history WHERE service_name = 'tap-hb';

SELECT lives_ok($$SELECT photofactory.heartbeat('tap-hb', 'WARNING', 'second')$$, 'second heartbeat');
SELECT results_eq($$SELECT status::text, current_task FROM photofactory.system_status WHERE service_name = 'tap-hb'$$,
                  $$VALUES ('WARNING', 'second')$$, 'the status row is updated in place');
SELECT is(count(*), 1::bigint, 'still one status row') FROM photofactory.system_status WHERE service_name = 'tap-hb';
SELECT results_eq($$SELECT status::text, current_task FROM photofactory.system_status_history
                     WHERE service_name = 'tap-hb' ORDER BY id$$,
                  $$VALUES ('OK', 'first'), ('WARNING', 'second')$$, 'each heartbeat appended a history row');
SELECT ok(last_heartbeat = now() AND updated_at = now(), 'timestamps are the server''s')
  FROM photofactory.system_status WHERE service_name = 'tap-hb';
SELECT is((photofactory.heartbeat('tap-hb2')).status::text, 'OK', 'status defaults to OK and the row is returned');
SELECT is((photofactory.heartbeat('tap-hb2', 'error')).current_task, NULL, 'task defaults to NULL');

SELECT throws_ok($$SELECT photofactory.heartbeat(NULL)$$, '22004', 'service must not be NULL', 'NULL service');
SELECT throws_ok($$SELECT photofactory.heartbeat('')$$, '22023', 'service must not be empty', 'empty service');
SELECT throws_ok($$SELECT photofactory.heartbeat(repeat('x', 65))$$, '22023', NULL, 'service longer than 64');
SELECT throws_ok($$SELECT photofactory.heartbeat('tap-hb', 'SLEEPY')$$, '22023',
                 'status must be one of OK, ERROR, WARNING (got ''SLEEPY'')', 'unknown status');
SELECT throws_ok($$SELECT photofactory.heartbeat('tap-hb', NULL)$$, '22004', 'status must not be NULL', 'NULL status');

-- service_health
SELECT results_eq($$SELECT colour, age, age_seconds FROM photofactory.service_health WHERE service_name = 'tap-hb'$$,
                  $$VALUES ('green'::text, interval '0', 0::numeric)$$, 'a fresh heartbeat is green with age 0');
SET LOCAL session_replication_role = replica;
UPDATE photofactory.system_status SET last_heartbeat = now() - interval '2 minutes' WHERE service_name = 'tap-hb';
UPDATE photofactory.system_status SET last_heartbeat = now() - interval '10 minutes' WHERE service_name = 'tap-hb2';
SET LOCAL session_replication_role = origin;
SELECT results_eq($$SELECT service_name::text, colour, age_seconds FROM photofactory.service_health
                     WHERE service_name IN ('tap-hb', 'tap-hb2') ORDER BY 1$$,
                  $$VALUES ('tap-hb', 'yellow', 120::numeric), ('tap-hb2', 'red', 600::numeric)$$,
                  'older heartbeats turn yellow, then red');

-- cleanup_history
INSERT INTO photofactory.system_status_history (service_name, status, heartbeat_timestamp)
VALUES ('tap-old', 'OK', now() - interval '61 days'), ('tap-old', 'OK', now() - interval '3 days'),
       ('tap-old', 'OK', now() - interval '1 hour');
SELECT cmp_ok(photofactory.cleanup_history('2 days'), '>=', 1::bigint, 'cleanup_history returns what it deleted');
SELECT is(count(*), 1::bigint, 'rows older than the retention are gone, newer ones stay')
  FROM photofactory.system_status_history WHERE service_name = 'tap-old';
SELECT throws_ok($$SELECT photofactory.cleanup_history('-5 minutes')$$, '22023', NULL, 'negative retention');
SELECT throws_ok($$SELECT photofactory.cleanup_history('0')$$, '22023', NULL, 'zero retention');

SELECT * FROM finish();
ROLLBACK;
