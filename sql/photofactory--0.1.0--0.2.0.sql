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

-- ---------------------------------------------------------------------------
-- 4.t Thumbnails (issue #15): the thumbnailer service's queue, bookkeeping
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
CREATE FUNCTION photofactory._thumbnail_done(p_id uuid)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
BEGIN
    PERFORM photofactory.mark_thumbnailed(p_id);
    DELETE FROM photofactory.thumbnail_failures AS f WHERE f.asset_id = p_id;
    -- An earlier thumbnail error is resolved; errors of other stages stay.
    UPDATE photofactory.media_assets AS a
       SET error_message = NULLIF(regexp_replace(a.error_message, '(^|; )thumbnail: .*$', ''), ''),
           has_errors = NULLIF(regexp_replace(a.error_message, '(^|; )thumbnail: .*$', ''), '') IS NOT NULL
     WHERE a.id = p_id AND a.error_message ~ '(^|; )thumbnail: ';
END
$fn$;

CREATE FUNCTION photofactory._thumbnail_failed(p_id uuid, p_reason text, p_max_attempts integer)
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
    VALUES (p_id, 1, p_reason, CASE WHEN p_max_attempts > 1 THEN now() + interval '1 minute' END)
    ON CONFLICT (asset_id) DO UPDATE
       SET attempts = f.attempts + 1, last_error = EXCLUDED.last_error, failed_at = now(),
           -- 1, 4, 16, 64 ... minutes between attempts.
           retry_after = CASE WHEN f.attempts + 1 >= p_max_attempts THEN NULL
                              ELSE now() + interval '1 minute' * power(4, least(f.attempts, 8)) END
    RETURNING attempts, retry_after INTO v_attempts, v_retry;
    -- Appended to an error of another stage (e.g. the librarian's "metadata:
    -- ..."), replacing only an earlier thumbnail error: what ingest found
    -- stays readable.
    SELECT regexp_replace(coalesce(a.error_message, ''), '(^|; )thumbnail: .*$', '') INTO v_other
      FROM photofactory.media_assets AS a WHERE a.id = p_id;
    PERFORM photofactory.record_error(p_id,
        CASE WHEN coalesce(v_other, '') = '' THEN '' ELSE v_other || '; ' END || 'thumbnail: ' || p_reason ||
        CASE WHEN v_retry IS NULL
             THEN format(' (attempt %s; no more automatic attempts: SELECT photofactory.rethumbnail(%L) retries)',
                         v_attempts, p_id)
             ELSE format(' (attempt %s of %s; next at %s)', v_attempts, p_max_attempts,
                         to_char(v_retry, 'YYYY-MM-DD HH24:MI:SS TZ')) END);
    RETURN v_attempts;
END
$fn$;

-- Files under <storage_dir>/Thumbnails (absolute paths, hidden temporaries
-- excluded), for reconcile().
CREATE FUNCTION photofactory._list_thumbnails()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pf_list_thumbnails'
LANGUAGE C VOLATILE;

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
