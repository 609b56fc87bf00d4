-- Background workers: the supervisor, factory-db and the librarians are
-- running, visible in pg_stat_activity, and heartbeat into system_status.
-- Runs in the database named by photofactory.database (pftest in scripts/test.sh).
BEGIN;
SELECT plan(14);

-- Volatile plpgsql takes a fresh snapshot per statement, so this sees
-- heartbeats the workers commit while the test transaction is open.
CREATE FUNCTION pg_temp.eventually(q text, seconds int DEFAULT 20) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
DECLARE r boolean;
BEGIN
    FOR i IN 1 .. seconds * 10 LOOP
        PERFORM pg_stat_clear_snapshot();  -- pg_stat_activity is cached per transaction
        EXECUTE q INTO r;
        IF r THEN RETURN true; END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN false;
END $$;

SELECT ok(pg_temp.eventually($$SELECT count(*) = 1 FROM pg_stat_activity
                               WHERE backend_type = 'photofactory supervisor'$$),
          'the supervisor runs');
SELECT ok(pg_temp.eventually($$SELECT count(*) = 1 FROM pg_stat_activity
                               WHERE backend_type = 'photofactory factory-db' AND datname = current_database()$$),
          'one factory-db worker is connected to photofactory.database');
SELECT ok(pg_temp.eventually(format($$SELECT count(*) = %s FROM pg_stat_activity
                                      WHERE backend_type = 'photofactory librarian'$$,
                                    current_setting('photofactory.librarian_workers'))),
          'photofactory.librarian_workers librarians run');

SELECT ok(pg_temp.eventually($$SELECT EXISTS (SELECT 1 FROM photofactory.system_status
                                WHERE service_name = 'factory-db'
                                  AND last_heartbeat > now() - interval '10 seconds')$$),
          'factory-db heartbeats');
SELECT matches((SELECT current_task FROM photofactory.system_status WHERE service_name = 'factory-db'),
               '^Database check: .*, [0-9]+ assets; storage .* free of .*',
               'factory-db reports database size, asset count and storage free space');
SELECT ok((SELECT status IN ('OK', 'WARNING') FROM photofactory.system_status WHERE service_name = 'factory-db'),
          'factory-db status is OK or WARNING');
SELECT ok(pg_temp.eventually($$SELECT count(*) >= 2 FROM photofactory.system_status_history
                               WHERE service_name = 'factory-db'$$),
          'each heartbeat appends to system_status_history');
SELECT ok(pg_temp.eventually($$SELECT EXISTS (SELECT 1 FROM photofactory.system_status
                                WHERE service_name = 'librarian'
                                  AND last_heartbeat > now() - interval '10 seconds')$$),
          'the librarian heartbeats');
SELECT is((SELECT colour FROM photofactory.service_health WHERE service_name = 'factory-db'), 'green',
          'service_health shows factory-db green');
SELECT ok(pg_temp.eventually($$SELECT bool_and(query <> '') FROM pg_stat_activity
                               WHERE backend_type LIKE 'photofactory %'$$),
          'workers describe their activity in pg_stat_activity');

-- Settings: units, and paths hidden from ordinary users.
SELECT is((SELECT unit FROM pg_settings WHERE name = 'photofactory.heartbeat_interval'), 's',
          'heartbeat_interval takes time units');
SELECT is((SELECT setting FROM pg_settings WHERE name = 'photofactory.history_retention'), '86400',
          'history_retention is kept in minutes (60d)');
CREATE ROLE pf_tap_nobody NOLOGIN;
SET LOCAL ROLE pf_tap_nobody;
SELECT throws_ok($$SHOW photofactory.inbox_dir$$, '42501', NULL, 'inbox_dir is superuser-only');
RESET ROLE;
SELECT throws_ok($$SET photofactory.storage_dir = '/tmp'$$, '55P02', NULL,
                 'storage_dir cannot be changed in a session');

SELECT * FROM finish();
ROLLBACK;
