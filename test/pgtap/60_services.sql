-- Services of the worker template (src/pg/service_worker.hpp): the geocoder
-- is started by the supervisor as photofactory.geocoder_workers workers,
-- heartbeats as `geocoder`, and its settings have the documented bounds.
-- Runs in the database named by photofactory.database (pftest in scripts/test.sh),
-- before test/e2e/76_geocoder.sh loads any places.
BEGIN;
SELECT plan(8);

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

SELECT ok(pg_temp.eventually(format($$SELECT count(*) = %s FROM pg_stat_activity
                                      WHERE backend_type = 'photofactory geocoder' AND datname = current_database()$$,
                                    current_setting('photofactory.geocoder_workers'))),
          'photofactory.geocoder_workers geocoders run, connected to photofactory.database');
SELECT ok(pg_temp.eventually($$SELECT EXISTS (SELECT 1 FROM photofactory.system_status
                                WHERE service_name = 'geocoder' AND last_heartbeat > now() - interval '10 seconds')$$),
          'the geocoder heartbeats');
SELECT ok((SELECT CASE WHEN EXISTS (SELECT 1 FROM photofactory.places_dataset)
                       THEN status IN ('OK', 'WARNING')
                       ELSE status = 'WARNING' AND current_task LIKE '%no places loaded%scripts/load-places.sh%' END
             FROM photofactory.system_status WHERE service_name = 'geocoder'),
          'without places the geocoder says WARNING and how to load them');
SELECT ok(pg_temp.eventually($$SELECT bool_and(query <> '') FROM pg_stat_activity
                               WHERE backend_type = 'photofactory geocoder'$$),
          'the geocoder describes its activity in pg_stat_activity');

SELECT is((SELECT min_val || '..' || max_val || ' ' || context FROM pg_settings
            WHERE name = 'photofactory.geocoder_workers'), '0..8 sighup',
          'geocoder_workers: 0 (off) to 8, reloadable');
SELECT is((SELECT boot_val || ' ' || min_val || '..' || max_val || ' ' || context FROM pg_settings
            WHERE name = 'photofactory.geocoder_max_km'), '30 0.1..20100 sighup',
          'geocoder_max_km: 30 km by default, reloadable');
SELECT throws_ok($$SET photofactory.geocoder_workers = 2$$, '55P02', NULL,
                 'geocoder_workers cannot be changed in a session');
SELECT throws_ok($$SELECT photofactory.load_places('[]', '[]', '[]', '[]', 'x')$$, '22023', NULL,
                 'load_places refuses an empty data set');

SELECT * FROM finish();
ROLLBACK;
