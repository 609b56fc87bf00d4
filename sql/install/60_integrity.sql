------------------------------------------------------------------------------
-- Integrity: verification of stored originals, reconciliation
------------------------------------------------------------------------------
-- (docs/operations.md, "Verifying the library"). Nothing here deletes or moves a file.

-- Result of the last re-hash of each asset's stored file.
CREATE TABLE photofactory.asset_integrity (
    asset_id    uuid        PRIMARY KEY,
    checked_at  timestamptz NOT NULL DEFAULT now(),
    status      text        NOT NULL CHECK (status IN ('ok', 'missing', 'hash_mismatch', 'unreadable')),
    detail      text
);
CREATE INDEX idx_asset_integrity_checked_at ON photofactory.asset_integrity (checked_at);
CREATE INDEX idx_asset_integrity_problems ON photofactory.asset_integrity (checked_at) WHERE status <> 'ok';
COMMENT ON TABLE photofactory.asset_integrity IS
    'Last verification of each stored original: ok, missing, hash_mismatch (bit rot) or unreadable.';
COMMENT ON COLUMN photofactory.asset_integrity.asset_id IS 'The media_assets row checked';
COMMENT ON COLUMN photofactory.asset_integrity.checked_at IS 'When its stored file was last re-hashed';
COMMENT ON COLUMN photofactory.asset_integrity.status IS 'ok, missing, hash_mismatch or unreadable';
COMMENT ON COLUMN photofactory.asset_integrity.detail IS 'The error, or both hashes on a mismatch; NULL when ok';

-- Background verification runs, worked through by the factory-db worker in batches.
CREATE TABLE photofactory.verification_runs (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    requested_at        timestamptz NOT NULL DEFAULT now(),
    not_verified_since  timestamptz,
    sample              double precision CHECK (sample > 0 AND sample <= 1),
    started_at          timestamptz,
    finished_at         timestamptz,
    total               bigint,
    checked             bigint NOT NULL DEFAULT 0,
    problems            bigint NOT NULL DEFAULT 0,
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'cancelled')),
    -- Where the run is: it walks media_assets in id order (keyset), so a batch
    -- never sorts the whole ledger.
    last_asset          uuid
);
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

CREATE FUNCTION photofactory._hash_stored_file(path text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pf_hash_stored_file'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION photofactory._hash_stored_file(text) IS
    'Internal: SHA-256 of a stored file as {"sha256": …} or {"error": missing|unreadable, "detail": …}';

CREATE FUNCTION photofactory._list_originals()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pf_list_originals'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION photofactory._list_originals() IS
    'Internal: absolute paths of the regular files under storage_dir/Originals (JSON array)';

-- Re-hashes the given assets' stored files, records each result, returns the problems.
CREATE FUNCTION photofactory._verify_ids(asset_ids uuid[])
 RETURNS TABLE(asset_id uuid, final_path text, status text, detail text)
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'photofactory', 'pg_temp'
AS $function$
DECLARE
    p_ids ALIAS FOR asset_ids;
BEGIN

DECLARE
    a record;
    r jsonb;
    v_status text;
    v_detail text;
BEGIN
    FOR a IN
        SELECT m.id, m.final_path, m.file_hash FROM photofactory.media_assets m
         WHERE m.id = ANY (p_ids) ORDER BY m.id
    LOOP
        r := photofactory._hash_stored_file(a.final_path);
        IF r ? 'sha256' THEN
            v_status := CASE WHEN r->>'sha256' = a.file_hash THEN 'ok' ELSE 'hash_mismatch' END;
            v_detail := CASE WHEN v_status = 'ok' THEN NULL
                             ELSE format('stored file hashes to %s, ledger says %s', r->>'sha256', a.file_hash) END;
        ELSE
            v_status := r->>'error';
            v_detail := r->>'detail';
        END IF;
        INSERT INTO photofactory.asset_integrity AS t (asset_id, checked_at, status, detail)
        VALUES (a.id, clock_timestamp(), v_status, v_detail)
        ON CONFLICT ON CONSTRAINT asset_integrity_pkey
        DO UPDATE SET checked_at = excluded.checked_at, status = excluded.status, detail = excluded.detail;
        IF v_status <> 'ok' THEN
            asset_id := a.id; final_path := a.final_path; status := v_status; detail := v_detail;
            RETURN NEXT;
        END IF;
    END LOOP;
END;
END
$function$
;
COMMENT ON FUNCTION photofactory._verify_ids(uuid[]) IS
    'Internal: re-hashes the given assets'' stored files, records each result in asset_integrity, returns the problems';

-- The assets a check covers: never checked, or checked before p_checked_before;
-- optionally only those not verified since a time, and a deterministic sample.
CREATE FUNCTION photofactory._verify_batch(max_rows integer, checked_before timestamp with time zone, not_verified_since timestamp with time zone, sample double precision, seed bigint)
 RETURNS TABLE(asset_id uuid, final_path text, status text, detail text)
 LANGUAGE sql
 SET search_path TO 'pg_catalog', 'photofactory', 'pg_temp'
AS $function$
    SELECT * FROM photofactory._verify_ids(ARRAY(
        SELECT m.id
          FROM photofactory.media_assets m
          LEFT JOIN photofactory.asset_integrity i ON i.asset_id = m.id
         WHERE (i.checked_at IS NULL OR i.checked_at < _verify_batch.checked_before)
           AND (_verify_batch.not_verified_since IS NULL OR i.checked_at IS NULL OR i.checked_at < _verify_batch.not_verified_since)
           AND (_verify_batch.sample IS NULL OR (abs(hashtextextended(m.id::text, _verify_batch.seed)) % 1000000) < _verify_batch.sample * 1000000)
         ORDER BY i.checked_at NULLS FIRST, m.id
         LIMIT _verify_batch.max_rows))
$function$
;
COMMENT ON FUNCTION photofactory._verify_batch(integer, timestamptz, timestamptz, double precision, bigint) IS
    'Internal: the assets one verify_assets() call covers, re-hashed';

CREATE FUNCTION photofactory.verify_assets(max_rows integer DEFAULT 1000, not_verified_since timestamp with time zone DEFAULT NULL::timestamp with time zone, sample double precision DEFAULT NULL::double precision)
 RETURNS TABLE(asset_id uuid, final_path text, status text, detail text)
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'photofactory', 'pg_temp'
AS $function$
DECLARE
    p_limit ALIAS FOR max_rows;
    p_not_verified_since ALIAS FOR not_verified_since;
    p_sample ALIAS FOR sample;
BEGIN

BEGIN
    PERFORM photofactory._require_library_database('photofactory.verify_assets()');
    IF p_limit IS NULL OR p_limit < 1 THEN
        RAISE EXCEPTION 'max_rows must be a positive integer' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_sample IS NOT NULL AND (p_sample <= 0 OR p_sample > 1) THEN
        RAISE EXCEPTION 'sample must be in (0, 1]' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY SELECT * FROM photofactory._verify_batch(p_limit, now(), p_not_verified_since, p_sample,
                                                         (random() * 1e9)::bigint);
END;
END
$function$
;
COMMENT ON FUNCTION photofactory.verify_assets(integer, timestamptz, double precision) IS
    'Re-hashes up to max_rows stored originals now (least recently checked first) and returns the problems found.';

CREATE FUNCTION photofactory.start_verification(not_verified_since timestamp with time zone DEFAULT NULL::timestamp with time zone, sample double precision DEFAULT NULL::double precision)
 RETURNS bigint
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'photofactory', 'pg_temp'
AS $function$
DECLARE
    p_not_verified_since ALIAS FOR not_verified_since;
    p_sample ALIAS FOR sample;
BEGIN

DECLARE v_id bigint;
BEGIN
    PERFORM photofactory._require_library_database('photofactory.start_verification()');
    IF p_sample IS NOT NULL AND (p_sample <= 0 OR p_sample > 1) THEN
        RAISE EXCEPTION 'sample must be in (0, 1]' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO photofactory.verification_runs (not_verified_since, sample)
    VALUES (p_not_verified_since, p_sample) RETURNING id INTO v_id;
    RETURN v_id;
END;
END
$function$
;


-- One batch of the oldest active run; returns a progress line, or NULL when idle.
-- The run walks the ledger in id order from last_asset: each batch is an index
-- range scan of p_batch rows, whatever the size of the ledger.
CREATE FUNCTION photofactory._verification_step(batch_size integer)
 RETURNS text
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'photofactory', 'pg_temp'
AS $function$
DECLARE
    p_batch ALIAS FOR batch_size;
BEGIN

DECLARE
    run photofactory.verification_runs;
    v_ids uuid[];
    n_problems bigint;
BEGIN
    SELECT * INTO run FROM photofactory.verification_runs
     WHERE status IN ('pending', 'running') ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF run.status = 'pending' THEN
        UPDATE photofactory.verification_runs
           SET status = 'running', started_at = now(),
               total = (SELECT count(*) FROM photofactory.media_assets)
         WHERE id = run.id RETURNING * INTO run;
    END IF;
    SELECT array_agg(s.id ORDER BY s.id) INTO v_ids FROM (
        SELECT m.id FROM photofactory.media_assets m
          LEFT JOIN photofactory.asset_integrity i ON i.asset_id = m.id
         WHERE (run.last_asset IS NULL OR m.id > run.last_asset)
           AND (i.checked_at IS NULL OR i.checked_at < run.started_at)
           AND (run.not_verified_since IS NULL OR i.checked_at IS NULL OR i.checked_at < run.not_verified_since)
           AND (run.sample IS NULL OR (abs(hashtextextended(m.id::text, run.id)) % 1000000) < run.sample * 1000000)
         ORDER BY m.id
         LIMIT p_batch) s;
    IF v_ids IS NULL THEN
        UPDATE photofactory.verification_runs SET status = 'done', finished_at = now()
         WHERE id = run.id RETURNING * INTO run;
        RETURN format('Verification %s done: %s checked, %s problems', run.id, run.checked, run.problems);
    END IF;
    SELECT count(*) INTO n_problems FROM photofactory._verify_ids(v_ids);
    UPDATE photofactory.verification_runs
       SET checked = checked + cardinality(v_ids), problems = problems + n_problems,
           last_asset = v_ids[cardinality(v_ids)]
     WHERE id = run.id RETURNING * INTO run;
    IF cardinality(v_ids) < p_batch THEN
        UPDATE photofactory.verification_runs SET status = 'done', finished_at = now()
         WHERE id = run.id RETURNING * INTO run;
        RETURN format('Verification %s done: %s checked, %s problems', run.id, run.checked, run.problems);
    END IF;
    RETURN format('Verifying originals (run %s): %s/%s checked, %s problems', run.id, run.checked, run.total,
                  run.problems);
END;
END
$function$
;
COMMENT ON FUNCTION photofactory._verification_step(integer) IS
    'Internal (factory-db): one batch of the oldest active verification run; returns a progress line, NULL when idle';


CREATE FUNCTION photofactory.adopt_orphan(path text)
 RETURNS uuid
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'photofactory', 'pg_temp'
AS $function$
DECLARE
    p_path ALIAS FOR path;
BEGIN

DECLARE
    f jsonb;
    v_dup uuid;
    v_id uuid;
    v_root text := current_setting('photofactory.storage_dir') || '/Originals/';
BEGIN
    PERFORM photofactory._require_library_database('photofactory.adopt_orphan()');
    IF p_path IS NULL THEN
        RAISE EXCEPTION 'path must not be NULL' USING ERRCODE = 'null_value_not_allowed';
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
END
$function$
;
COMMENT ON FUNCTION photofactory.adopt_orphan(text) IS
    'Records a file found under Originals/ without a ledger row (hash + metadata), in place.';

GRANT EXECUTE ON FUNCTION photofactory.verify_assets(integer, timestamptz, double precision) TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory.start_verification(timestamptz, double precision) TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory.adopt_orphan(text) TO photofactory_operator;
GRANT SELECT ON photofactory.asset_integrity, photofactory.verification_runs TO photofactory_reader;

-- Rebuilding a lost ledger from the library: every orphan of Originals/
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
GRANT EXECUTE ON FUNCTION photofactory.adopt_orphans() TO photofactory_operator;


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
CREATE TRIGGER verification_runs_one_active
    BEFORE INSERT ON photofactory.verification_runs
    FOR EACH ROW EXECUTE FUNCTION photofactory._verification_runs_one_active();
COMMENT ON FUNCTION photofactory.start_verification(timestamptz, double precision) IS
    'Queues a background verification of the stored originals (worked through by factory-db); returns its id. Refused while another run is pending or running.';


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

GRANT EXECUTE ON FUNCTION photofactory.cancel_verification(bigint) TO photofactory_operator;


-- The comparison of disk and ledger behind reconcile(): 'missing_file' and
-- 'orphan_file' under Originals/; 'orphan_rendition': a file under
-- Thumbnails/ that belongs to no asset (or is not named like a rendition);
-- 'missing_rendition': an asset marked thumbnailed whose file is gone.
-- SECURITY INVOKER: only reconcile() (SECURITY DEFINER) calls it.
CREATE FUNCTION photofactory._reconcile_files()
RETURNS TABLE (problem text, path text, asset_id uuid)
LANGUAGE sql
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

-- reconcile() also reports ledger rows outside the current storage root (the
-- library was moved, photofactory.storage_dir changed): skipped silently,
-- they would show no problem while verify_assets() finds every one of them
-- missing.
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
GRANT EXECUTE ON FUNCTION photofactory.reconcile() TO photofactory_operator;

-- Hashes root/rel walking from an open root, O_NOFOLLOW on every component
-- (the new root is not storage_dir yet, so _hash_stored_file's checks do not
-- apply to it). Granted to nobody.
CREATE FUNCTION photofactory._hash_under_root(root text, rel text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pf_hash_under_root'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION photofactory._hash_under_root(text, text) IS
    'Internal (relocate_storage): SHA-256 of root/rel, walked from the open root without following links, as {"sha256": …} or {"error": …, "detail": …}';

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

