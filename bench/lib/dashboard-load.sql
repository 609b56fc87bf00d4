-- A month (:days days) of heartbeats in system_status_history, as the
-- services of one server write them: every photofactory worker heartbeats
-- once per photofactory.heartbeat_interval (30 s by default): factory-db and
-- the verifier (both from the factory-db worker), the librarian (one row per
-- librarian per interval, librarian_workers = 1 by default), the geocoder,
-- the thumbnailer, the backup service, the Syncthing check and the dashboard:
-- 8 services x 2,880 rows a day. pg_cron's cleanup_history() keeps 60 days
-- (photofactory.history_retention), so a month is all still there.
--
-- Each service has an ERROR episode of 3 minutes once a day and a WARNING
-- episode of 2 minutes every 8 hours, at times of its own, so the health
-- page's timeline and uptime have changes to find. Rows go through the normal
-- INSERT path (the created_at trigger runs); heartbeat_timestamp is supplied,
-- as an import of history does.
SET synchronous_commit = off;
SET client_min_messages = warning;
SELECT set_config('pfbench.days', :'days', false) \gset

INSERT INTO photofactory.system_status_history (service_name, status, current_task, heartbeat_timestamp)
SELECT s.name,
       CASE WHEN (g.n + s.k * 331) % 2880 < 6 THEN 'ERROR'
            WHEN (g.n + s.k * 127) % 960 < 4 THEN 'WARNING'
            ELSE 'OK' END,
       CASE WHEN (g.n + s.k * 331) % 2880 < 6 THEN s.name || ': cannot write to the storage folder (No space left on device)'
            WHEN (g.n + s.k * 127) % 960 < 4 THEN s.name || ': catching up, 1200 items queued'
            ELSE s.name || ': idle, last round ' || (g.n % 97) || ' items' END,
       pg_catalog.now() - current_setting('pfbench.days')::int * interval '1 day'
           + g.n * interval '30 seconds' + s.k * interval '1.7 seconds'
  FROM unnest(ARRAY['factory-db', 'verifier', 'librarian', 'geocoder', 'thumbnailer', 'backup', 'syncthing',
                    'dashboard']) WITH ORDINALITY AS s(name, k),
       generate_series(0, current_setting('pfbench.days')::int * 2880 - 1) AS g(n)
 ORDER BY g.n, s.k;  -- in time order, as heartbeats are appended

-- Places for the geocoded assets that have none yet (when the geocoder phase
-- did not run): what the recent-photos grid and a photo's page join.
INSERT INTO photofactory.asset_places (asset_id, place_id, city, admin1, admin2, country_code, country_name,
                                       distance_km, dataset_generation)
SELECT a.id, 1 + (a.size_bytes % 5000)::int, 'City ' || (a.size_bytes % 5000), 'Region', 'County', 'FR', 'France',
       (a.size_bytes % 1000) / 100.0, 1
  FROM photofactory.media_assets AS a
 WHERE a.is_geocoded AND a.location IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM photofactory.asset_places AS p WHERE p.asset_id = a.id);

VACUUM (ANALYZE) photofactory.system_status_history;
VACUUM (ANALYZE) photofactory.asset_places;
