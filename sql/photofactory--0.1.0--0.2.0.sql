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

-- 1a. (filesystem) adopt_orphan's refusal no longer shows the superuser-only
-- photofactory.storage_dir to operators, and "." / ".." / "//" components are
-- refused as well as "/../". Body otherwise as in 0.1.0.
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
    IF p_path IS NULL THEN
        RAISE EXCEPTION 'p_path must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- The library path is superuser-only (a GUC_SUPERUSER_ONLY setting): the
    -- message names the setting, not its value.
    IF left(p_path, length(v_root)) <> v_root OR p_path ~ '(^|/)\.\.?(/|$)' OR p_path LIKE '%//%' THEN
        RAISE EXCEPTION 'only files under Originals/ of photofactory.storage_dir can be adopted: "%"', p_path
            USING ERRCODE = 'invalid_parameter_value';
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

------------------------------------------------------------------------------
-- 2. Metadata accuracy (issue #11)
------------------------------------------------------------------------------

------------------------------------------------------------------------------
-- 3. Release engineering (issue #13)
------------------------------------------------------------------------------

------------------------------------------------------------------------------
-- 4. Services (worker template, geocoder, ...)
------------------------------------------------------------------------------
