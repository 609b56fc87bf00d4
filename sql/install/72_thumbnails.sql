-- ---------------------------------------------------------------------------
-- Thumbnails: the thumbnailer service's queue, bookkeeping
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
-- (pending_thumbnails(), in 30_queues.sql, skips assets that failed until
-- their retry time, and for good once they ran out of attempts.)

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
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION photofactory._list_thumbnails() IS
    'Internal (C): the files under <storage_dir>/Thumbnails (absolute paths, hidden temporaries excluded), for reconcile()';


-- Like every SECURITY DEFINER function: operators only (pgTAP 03_privileges).
GRANT EXECUTE ON FUNCTION photofactory.thumbnail_path(uuid, text), photofactory.rethumbnail(uuid),
                          photofactory.rethumbnail_all()
   TO photofactory_operator;

