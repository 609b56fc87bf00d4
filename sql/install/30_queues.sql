------------------------------------------------------------------------------
-- Pending-work queues (claim semantics)
------------------------------------------------------------------------------
-- Usage, per worker:
--   BEGIN;
--   SELECT id, final_path, location FROM photofactory.pending_geocoding(50);
--   ... do the work ...
--   SELECT photofactory.mark_geocoded(ARRAY[...]::uuid[]);
--   COMMIT;
-- FOR UPDATE SKIP LOCKED locks the returned rows until the caller's
-- transaction ends, and skips rows another worker holds, so parallel workers
-- never receive the same asset. The row lock is taken below the LIMIT, so only
-- the rows returned are locked. Each WHERE clause is literally the predicate of
-- its partial index, which the planner then reads in ingested_at order.

CREATE FUNCTION photofactory.pending_geocoding(max_rows integer DEFAULT 100)
 RETURNS SETOF photofactory.media_assets
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'photofactory', 'pg_temp'
AS $function$
DECLARE
    p_limit ALIAS FOR max_rows;
BEGIN

BEGIN
    IF p_limit IS NULL THEN
        RAISE EXCEPTION 'max_rows must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF p_limit < 0 THEN
        RAISE EXCEPTION 'max_rows must not be negative (got %)', p_limit
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
        SELECT * FROM photofactory.media_assets
         WHERE is_ingested AND NOT is_geocoded AND location IS NOT NULL
         ORDER BY ingested_at
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED;
END;
END
$function$
;
COMMENT ON FUNCTION photofactory.pending_geocoding(integer) IS
    'Claims up to max_rows assets with a location awaiting geocoding, oldest first (FOR UPDATE SKIP LOCKED)';

CREATE FUNCTION photofactory.pending_thumbnails(max_rows integer DEFAULT 100)
 RETURNS SETOF photofactory.media_assets
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'photofactory', 'pg_temp'
AS $function$
DECLARE
    p_limit ALIAS FOR max_rows;
BEGIN

BEGIN
    IF p_limit IS NULL THEN
        RAISE EXCEPTION 'max_rows must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF p_limit < 0 THEN
        RAISE EXCEPTION 'max_rows must not be negative (got %)', p_limit
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
END;
END
$function$
;
COMMENT ON FUNCTION photofactory.pending_thumbnails(integer) IS
    'Claims up to max_rows assets awaiting thumbnails, oldest first (FOR UPDATE SKIP LOCKED); failed assets wait for their retry time';

CREATE FUNCTION photofactory.pending_curation(max_rows integer DEFAULT 100)
 RETURNS SETOF photofactory.media_assets
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'photofactory', 'pg_temp'
AS $function$
DECLARE
    p_limit ALIAS FOR max_rows;
BEGIN

BEGIN
    IF p_limit IS NULL THEN
        RAISE EXCEPTION 'max_rows must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF p_limit < 0 THEN
        RAISE EXCEPTION 'max_rows must not be negative (got %)', p_limit
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
        SELECT * FROM photofactory.media_assets
         WHERE is_ingested AND NOT is_curated
         ORDER BY ingested_at
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED;
END;
END
$function$
;
COMMENT ON FUNCTION photofactory.pending_curation(integer) IS
    'Claims up to max_rows assets awaiting curation, oldest first (FOR UPDATE SKIP LOCKED)';

CREATE FUNCTION photofactory.pending_backup(max_rows integer DEFAULT 100)
 RETURNS SETOF photofactory.media_assets
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'photofactory', 'pg_temp'
AS $function$
DECLARE
    p_limit ALIAS FOR max_rows;
BEGIN

BEGIN
    IF p_limit IS NULL THEN
        RAISE EXCEPTION 'max_rows must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF p_limit < 0 THEN
        RAISE EXCEPTION 'max_rows must not be negative (got %)', p_limit
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
        SELECT * FROM photofactory.media_assets
         WHERE is_ingested AND NOT is_backed_up
         ORDER BY ingested_at
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED;
END;
END
$function$
;
COMMENT ON FUNCTION photofactory.pending_backup(integer) IS
    'Claims up to max_rows assets awaiting backup, oldest first (FOR UPDATE SKIP LOCKED)';

------------------------------------------------------------------------------
-- Read-only listings (no locks)
------------------------------------------------------------------------------
CREATE FUNCTION photofactory.assets_with_errors(max_rows integer DEFAULT 100)
 RETURNS SETOF photofactory.media_assets
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'photofactory', 'pg_temp'
AS $function$
DECLARE
    p_limit ALIAS FOR max_rows;
BEGIN

BEGIN
    IF p_limit IS NULL THEN
        RAISE EXCEPTION 'max_rows must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF p_limit < 0 THEN
        RAISE EXCEPTION 'max_rows must not be negative (got %)', p_limit
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
        SELECT * FROM photofactory.media_assets
         WHERE has_errors
         ORDER BY ingested_at DESC
         LIMIT p_limit;
END;
END
$function$
;
COMMENT ON FUNCTION photofactory.assets_with_errors(integer) IS
    'Up to max_rows assets with has_errors, most recently ingested first (read-only)';

CREATE FUNCTION photofactory.recent_assets(max_rows integer DEFAULT 100)
 RETURNS SETOF photofactory.media_assets
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'photofactory', 'pg_temp'
AS $function$
DECLARE
    p_limit ALIAS FOR max_rows;
BEGIN

BEGIN
    IF p_limit IS NULL THEN
        RAISE EXCEPTION 'max_rows must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF p_limit < 0 THEN
        RAISE EXCEPTION 'max_rows must not be negative (got %)', p_limit
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
        SELECT * FROM photofactory.media_assets
         ORDER BY ingested_at DESC
         LIMIT p_limit;
END;
END
$function$
;
COMMENT ON FUNCTION photofactory.recent_assets(integer) IS
    'Up to max_rows most recently ingested assets (read-only)';

------------------------------------------------------------------------------
-- Marking work done
------------------------------------------------------------------------------
-- Each returns how many rows it newly marked: marking twice returns 0 and
-- keeps the first *_at. The single-id form raises no_data_found for an unknown
-- id (a worker only marks what it claimed, so that is a bug worth surfacing).
-- The array form ignores unknown ids: one asset deleted meanwhile must not
-- throw away the rest of a batch; compare the count with the batch size.
-- Duplicate ids in the array count once. NULL ids are errors in both forms.
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

CREATE FUNCTION photofactory.mark_geocoded(id uuid) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done('geocoded', ARRAY[id], true) $fn$;
CREATE FUNCTION photofactory.mark_geocoded(ids uuid[]) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done('geocoded', ids, false) $fn$;
CREATE FUNCTION photofactory.mark_geocoded(id text) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done_text('geocoded', id) $fn$;

CREATE FUNCTION photofactory.mark_thumbnailed(id uuid) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done('thumbnailed', ARRAY[id], true) $fn$;
CREATE FUNCTION photofactory.mark_thumbnailed(ids uuid[]) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done('thumbnailed', ids, false) $fn$;
CREATE FUNCTION photofactory.mark_thumbnailed(id text) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done_text('thumbnailed', id) $fn$;

CREATE FUNCTION photofactory.mark_curated(id uuid) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done('curated', ARRAY[id], true) $fn$;
CREATE FUNCTION photofactory.mark_curated(ids uuid[]) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done('curated', ids, false) $fn$;
CREATE FUNCTION photofactory.mark_curated(id text) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done_text('curated', id) $fn$;

CREATE FUNCTION photofactory.mark_backed_up(id uuid) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done('backed_up', ARRAY[id], true) $fn$;
CREATE FUNCTION photofactory.mark_backed_up(ids uuid[]) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done('backed_up', ids, false) $fn$;
CREATE FUNCTION photofactory.mark_backed_up(id text) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$ SELECT photofactory._mark_done_text('backed_up', id) $fn$;

COMMENT ON FUNCTION photofactory.mark_geocoded(uuid) IS
    'Sets is_geocoded (geocoded_at = now() the first time); returns 1 if newly marked, 0 if already; unknown id raises';
COMMENT ON FUNCTION photofactory.mark_geocoded(uuid[]) IS
    'Sets is_geocoded on each id; returns how many were newly marked; unknown ids are ignored';
COMMENT ON FUNCTION photofactory.mark_thumbnailed(uuid) IS
    'Sets is_thumbnailed (thumbnailed_at = now() the first time); returns 1 if newly marked, 0 if already; unknown id raises';
COMMENT ON FUNCTION photofactory.mark_thumbnailed(uuid[]) IS
    'Sets is_thumbnailed on each id; returns how many were newly marked; unknown ids are ignored';
COMMENT ON FUNCTION photofactory.mark_curated(uuid) IS
    'Sets is_curated (curated_at = now() the first time); returns 1 if newly marked, 0 if already; unknown id raises';
COMMENT ON FUNCTION photofactory.mark_curated(uuid[]) IS
    'Sets is_curated on each id; returns how many were newly marked; unknown ids are ignored';
COMMENT ON FUNCTION photofactory.mark_backed_up(uuid) IS
    'Sets is_backed_up (backed_up_at = now() the first time); returns 1 if newly marked, 0 if already; unknown id raises';
COMMENT ON FUNCTION photofactory.mark_backed_up(uuid[]) IS
    'Sets is_backed_up on each id; returns how many were newly marked; unknown ids are ignored';

COMMENT ON FUNCTION photofactory.mark_geocoded(text) IS
    'mark_geocoded for an untyped literal: one uuid (as mark_geocoded(uuid)) or an array literal {…} (as mark_geocoded(uuid[]))';
COMMENT ON FUNCTION photofactory.mark_thumbnailed(text) IS
    'mark_thumbnailed for an untyped literal: one uuid (as mark_thumbnailed(uuid)) or an array literal {…} (as mark_thumbnailed(uuid[]))';
COMMENT ON FUNCTION photofactory.mark_curated(text) IS
    'mark_curated for an untyped literal: one uuid (as mark_curated(uuid)) or an array literal {…} (as mark_curated(uuid[]))';
COMMENT ON FUNCTION photofactory.mark_backed_up(text) IS
    'mark_backed_up for an untyped literal: one uuid (as mark_backed_up(uuid)) or an array literal {…} (as mark_backed_up(uuid[]))';

-- mark_* run as the caller, so the caller needs the shared body too; it can
-- do nothing the mark_* functions cannot.
GRANT EXECUTE ON FUNCTION photofactory._mark_done(text, uuid[], boolean),
                          photofactory._mark_done_text(text, text),
                          photofactory.mark_geocoded(text),
                          photofactory.mark_thumbnailed(text),
                          photofactory.mark_curated(text),
                          photofactory.mark_backed_up(text)
   TO photofactory_operator;

------------------------------------------------------------------------------
-- Errors
------------------------------------------------------------------------------
CREATE FUNCTION photofactory.record_error(id uuid, message text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
BEGIN
    IF record_error.id IS NULL THEN
        RAISE EXCEPTION 'id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF message IS NULL THEN
        RAISE EXCEPTION 'message must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF btrim(message) = '' THEN
        RAISE EXCEPTION 'message must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The latest error replaces any earlier one.
    UPDATE photofactory.media_assets AS a
       SET has_errors = true, error_message = record_error.message
     WHERE a.id = record_error.id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'media asset % does not exist', record_error.id USING ERRCODE = 'no_data_found';
    END IF;
END
$fn$;
COMMENT ON FUNCTION photofactory.record_error(uuid, text) IS
    'Sets has_errors and error_message (replacing an earlier message); unknown id or empty message raises';

CREATE FUNCTION photofactory.clear_error(id uuid)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    n integer;
BEGIN
    IF clear_error.id IS NULL THEN
        RAISE EXCEPTION 'id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE photofactory.media_assets AS a
       SET has_errors = false, error_message = NULL
     WHERE a.id = clear_error.id AND a.has_errors;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 AND NOT EXISTS (SELECT 1 FROM photofactory.media_assets AS a WHERE a.id = clear_error.id) THEN
        RAISE EXCEPTION 'media asset % does not exist', clear_error.id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION photofactory.clear_error(uuid) IS
    'Clears has_errors and error_message; returns 1 if an error was cleared, 0 if there was none; unknown id raises';

