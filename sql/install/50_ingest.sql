-- === C functions of the librarian (src/pg) ===
-- Functions implemented in photofactory.so. Every function added here must be
-- followed by its own REVOKE ALL ... FROM PUBLIC and explicit GRANTs: the
-- blanket REVOKE above ran before these exist.

-- Reads a file on the server (hash, size, format, capture date and its source,
-- location, planned destination). It touches the server's filesystem with the
-- server's rights, so it is operator-only.
CREATE FUNCTION photofactory.inspect_file(path text) RETURNS jsonb AS 'MODULE_PATHNAME', 'pf_inspect_file' LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION photofactory.inspect_file(text) IS
    'Reads a file on the server and returns what the librarian would learn from it and where it would put it (jsonb)';
GRANT EXECUTE ON FUNCTION photofactory.inspect_file(text) TO photofactory_operator;

-- Moves in flight (see docs/architecture.md, "commit protocol"). A row exists
-- only between "destination chosen" and "ledger row committed"; after a crash
-- the librarian's recovery finishes or rolls back each one. Normally empty.
-- Sidecars (.xmp, .aae, .json) stored beside their asset (docs/schema.md).
CREATE TABLE photofactory.asset_sidecars (
    id             uuid        NOT NULL DEFAULT gen_random_uuid(),
    asset_id       uuid        NOT NULL,
    kind           text        NOT NULL,
    file_hash      varchar(64) NOT NULL,
    original_name  text        NOT NULL,
    original_path  text        NOT NULL,
    final_path     text        NOT NULL,
    size_bytes     bigint      NOT NULL,
    ingested_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT asset_sidecars_pkey PRIMARY KEY (id),
    CONSTRAINT asset_sidecars_kind_check CHECK (kind IN ('xmp', 'aae', 'json')),
    CONSTRAINT asset_sidecars_file_hash_check CHECK (file_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT asset_sidecars_size_bytes_check CHECK (size_bytes >= 0),
    CONSTRAINT asset_sidecars_asset_hash_key UNIQUE (asset_id, file_hash),
    CONSTRAINT asset_sidecars_final_path_key UNIQUE (final_path)
);
CREATE INDEX idx_asset_sidecars_file_hash ON photofactory.asset_sidecars (file_hash);
COMMENT ON TABLE photofactory.asset_sidecars IS
    'Sidecar files (.xmp, .aae, .json) stored beside their asset, with its name and collision suffix.';
GRANT SELECT ON photofactory.asset_sidecars TO photofactory_reader;

CREATE TABLE photofactory.ingest_journal (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at    timestamptz NOT NULL DEFAULT now(),
    librarian     integer NOT NULL,
    outcome       text NOT NULL CHECK (outcome IN ('ingested', 'duplicate', 'sidecar', 'rejected')),
    source_rel    bytea NOT NULL,   -- raw bytes: inbox names need not be UTF-8
    dest_rel      text NOT NULL,
    file_hash     text CHECK (file_hash ~ '^[0-9a-f]{64}$'),
    asset_id      uuid,
    inbox_root    text NOT NULL,
    storage_root  text NOT NULL,
    details       jsonb NOT NULL,
    CONSTRAINT ingest_journal_source_key UNIQUE (inbox_root, source_rel),
    CONSTRAINT ingest_journal_dest_key UNIQUE (storage_root, dest_rel)
);
CREATE INDEX idx_ingest_journal_file_hash ON photofactory.ingest_journal (file_hash);
COMMENT ON TABLE photofactory.ingest_journal IS
    'Moves in flight between the inbox and storage; recovery resolves leftovers after a crash. Normally empty.';

-- Records finished moves, set-based (one call per librarian batch): the asset
-- rows (for new content) and the audit events, and retires the journal rows,
-- all in the caller's transaction. p_final_rels[i] is where p_ids[i]'s file
-- now is, relative to its storage root.
CREATE FUNCTION photofactory._journal_finish_many(journal_ids bigint[], final_rels text[])
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'photofactory', 'pg_temp'
AS $function$
DECLARE
    p_ids ALIAS FOR journal_ids;
    p_final_rels ALIAS FOR final_rels;
BEGIN

DECLARE
    n integer;
BEGIN
    IF cardinality(p_ids) IS DISTINCT FROM cardinality(p_final_rels) THEN
        RAISE EXCEPTION 'journal ids and final paths differ in number';
    END IF;
    -- Row locks first: a concurrent recovery of the same rows waits, then
    -- finds them gone.
    PERFORM 1 FROM photofactory.ingest_journal WHERE id = ANY (p_ids) ORDER BY id FOR UPDATE;

    INSERT INTO photofactory.media_assets
        (id, file_hash, original_name, original_path, final_path, size_bytes, captured_at,
         location, has_errors, error_message, utc_offset_minutes, date_source, media_kind, media_format,
         time_zone, companion_of, group_key)
    SELECT j.asset_id, j.file_hash, left(j.details->>'original_name', 512), j.details->>'original_path',
           j.storage_root || '/' || u.rel,
           (j.details->>'size_bytes')::bigint, (j.details->>'captured_at')::timestamp,
           NULLIF(j.details->'location', 'null'::jsonb), j.details ? 'error_message', j.details->>'error_message',
           (j.details->>'utc_offset_minutes')::smallint, j.details->>'date_source',
           j.details->>'media_kind', j.details->>'media_format', j.details->>'time_zone',
           (j.details->>'companion_of')::uuid, j.details->>'group_key'
      FROM unnest(p_ids, p_final_rels) AS u(id, rel)
      JOIN photofactory.ingest_journal j ON j.id = u.id
     WHERE j.outcome = 'ingested'
     ORDER BY j.id;

    INSERT INTO photofactory.asset_sidecars
        (asset_id, kind, file_hash, original_name, original_path, final_path, size_bytes)
    SELECT j.asset_id, j.details->>'sidecar_kind', j.file_hash, j.details->>'original_name',
           j.details->>'original_path', j.storage_root || '/' || u.rel, (j.details->>'size_bytes')::bigint
      FROM unnest(p_ids, p_final_rels) AS u(id, rel)
      JOIN photofactory.ingest_journal j ON j.id = u.id
     WHERE j.outcome = 'sidecar'
     ORDER BY j.id;

    INSERT INTO photofactory.inbox_events
        (outcome, original_name, original_path, stored_path, file_hash, size_bytes, asset_id, reason)
    SELECT j.outcome, j.details->>'original_name', j.details->>'original_path', j.storage_root || '/' || u.rel,
           j.file_hash, (j.details->>'size_bytes')::bigint, j.asset_id,
           CASE WHEN j.outcome = 'duplicate' THEN 'same content as asset ' || j.asset_id
                WHEN j.outcome = 'sidecar' THEN j.details->>'sidecar_kind' || ' sidecar of asset ' || j.asset_id
                WHEN j.details ? 'companion_of' THEN 'companion of asset ' || (j.details->>'companion_of')
                ELSE j.details->>'reason' END
      FROM unnest(p_ids, p_final_rels) AS u(id, rel)
      JOIN photofactory.ingest_journal j ON j.id = u.id
     ORDER BY j.id;

    DELETE FROM photofactory.ingest_journal WHERE id = ANY (p_ids);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> cardinality(p_ids) THEN
        RAISE EXCEPTION 'ingest journal entries missing: found % of %', n, cardinality(p_ids);
    END IF;
    RETURN n;
END;
END
$function$
;

-- One finished move (recovery, tests): the asset id it recorded or referred to.
CREATE FUNCTION photofactory._journal_finish(journal_id bigint, final_rel text)
 RETURNS uuid
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'photofactory', 'pg_temp'
AS $function$
DECLARE
    p_id ALIAS FOR journal_id;
    p_final_rel ALIAS FOR final_rel;
BEGIN

DECLARE
    v_asset uuid;
BEGIN
    SELECT asset_id INTO v_asset FROM photofactory.ingest_journal WHERE id = p_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ingest journal entry % does not exist', p_id;
    END IF;
    PERFORM photofactory._journal_finish_many(ARRAY[p_id], ARRAY[p_final_rel]);
    RETURN v_asset;
END;
END
$function$
;

CREATE FUNCTION photofactory.ingest_now()
RETURNS integer
AS 'MODULE_PATHNAME', 'pf_ingest_now'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION photofactory.ingest_now() IS
    'Wakes every librarian for an immediate inbox scan; returns how many were woken.';

CREATE FUNCTION photofactory._ingest_file_json(path text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pf_ingest_file_json'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION photofactory.ingest_file(path text,
    OUT outcome text, OUT asset_id uuid, OUT stored_path text, OUT reason text)
RETURNS record
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
    SELECT r.outcome, r.asset_id, r.stored_path, r.reason
      FROM jsonb_to_record(photofactory._ingest_file_json(path))
           AS r(outcome text, asset_id uuid, stored_path text, reason text)
$$;
COMMENT ON FUNCTION photofactory.ingest_file(text) IS
    'Ingests one file of the inbox now (no settle wait), through a librarian; returns the outcome.';

CREATE FUNCTION photofactory._inbox_report_json()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pf_inbox_report_json'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;


-- Filesystem-touching and state-changing: operators only.
GRANT EXECUTE ON FUNCTION photofactory.ingest_now() TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory._ingest_file_json(text) TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory.ingest_file(text) TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory._inbox_report_json() TO photofactory_operator;
GRANT SELECT ON photofactory.ingest_journal TO photofactory_reader;



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

-- inbox_report() learns from the librarians which files they gave up on.
CREATE FUNCTION photofactory.inbox_report()
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
GRANT EXECUTE ON FUNCTION photofactory.inbox_report() TO photofactory_operator;

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
CREATE TRIGGER media_assets_notify_ingested
    AFTER INSERT ON photofactory.media_assets
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION photofactory._notify_ingested();

-- reconcile() also reports ledger rows outside the current storage root (the


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
GRANT EXECUTE ON FUNCTION photofactory.inbox_plan(integer) TO photofactory_operator;

