-- The backup service with no target (issue #14): its worker runs but stays
-- silent, and the operator functions refuse bad input with clear errors.
BEGIN;
SELECT plan(10);

CREATE FUNCTION pg_temp.eventually(q text, seconds int DEFAULT 20) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
DECLARE r boolean;
BEGIN
    FOR i IN 1 .. seconds * 10 LOOP
        PERFORM pg_stat_clear_snapshot();
        EXECUTE q INTO r;
        IF r THEN RETURN true; END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN false;
END $$;

SELECT ok(pg_temp.eventually($$SELECT count(*) = 1 FROM pg_stat_activity
                               WHERE backend_type = 'photofactory backup' AND datname = current_database()$$),
          'one backup worker is connected to photofactory.database');
SELECT is((SELECT count(*) FROM photofactory.system_status WHERE service_name = 'backup'), 0::bigint,
          'with no target ever added the backup service does not heartbeat');
SELECT throws_ok($$SELECT photofactory.add_backup_target('x', 'relative/path')$$, '22023', NULL,
                 'a relative target path raises 22023');
SELECT throws_ok($$SELECT photofactory.add_backup_target('x', '/nonexistent/photofactory/target')$$, '58P01', NULL,
                 'a missing target folder raises 58P01');
SELECT throws_ok($$SELECT photofactory.add_backup_target(NULL, '/tmp')$$, '22004', NULL, 'a NULL name raises 22004');
SELECT throws_ok($$SELECT photofactory.add_backup_target('bad name!', '/tmp')$$, '22023', NULL,
                 'an invalid name raises 22023');
SELECT throws_ok($$SELECT photofactory.retire_backup_target('nope')$$, 'P0002', NULL, 'an unknown target raises P0002');
SELECT throws_ok($$SELECT photofactory.retire_backup_target(NULL)$$, '22004', NULL, 'retiring NULL raises 22004');
SELECT throws_ok($$SELECT photofactory.restore_original(NULL)$$, '22004', NULL, 'restore_original(NULL) raises');
SELECT is((SELECT count(*) FROM photofactory.backup_report()), 0::bigint, 'backup_report is empty with no target');

SELECT * FROM finish();
ROLLBACK;
