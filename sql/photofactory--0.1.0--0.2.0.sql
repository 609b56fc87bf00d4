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
    IF left(p_path, length(v_root)) <> v_root OR p_path LIKE '%/../%' THEN
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

------------------------------------------------------------------------------
-- 3. Release engineering (issue #13)
------------------------------------------------------------------------------

------------------------------------------------------------------------------
-- 4. Services (worker template, geocoder, ...)
------------------------------------------------------------------------------
