-- ---------------------------------------------------------------------------
-- Backup: verified copies on every backup target
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


-- C side (src/pg/sql_backup.cpp). Superuser-only: called through the
-- SECURITY DEFINER functions below.
CREATE FUNCTION photofactory._backup_prepare_target(path text, id uuid, name text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'pf_backup_prepare_target' LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION photofactory._backup_prepare_target(text, uuid, text) IS
    'Internal (C): checks a new backup target folder and writes its marker; returns {"same_device": ...}';
CREATE FUNCTION photofactory._backup_restore_file(target_path text, target_id uuid, copy_rel text,
                                                  storage_rel text, sha256 text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'pf_backup_restore_file' LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
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

GRANT EXECUTE ON FUNCTION photofactory.add_backup_target(text, text) TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory.retire_backup_target(text) TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory.start_backup_scrub(text) TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory.backup_report() TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory.restore_original(uuid) TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory.restore_all(text) TO photofactory_operator;
GRANT SELECT ON photofactory.backup_targets, photofactory.asset_copies, photofactory.backup_events
    TO photofactory_reader;

