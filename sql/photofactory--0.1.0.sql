\echo Use "CREATE EXTENSION photofactory" to load this file. \quit

-- photofactory 0.1.0: the SQL surface of the photo librarian.
--
-- docs/schema.md is the canonical description of every table below (and of
-- every deviation from the seed schema); docs/sql-api.md documents every
-- function, view and role. Keep the three in step.
--
-- Conventions used throughout this script:
--  * Every object is schema-qualified, and every function pins its search_path,
--    so nothing here can be redirected by a caller's search_path.
--  * Timestamps that record when the *server* did something are filled in by
--    triggers, never trusted from clients.
--  * Functions validate their arguments and raise null_value_not_allowed or
--    invalid_parameter_value naming the argument. None is STRICT: STRICT would
--    turn a caller's NULL into a silent NULL result instead of an error.
--  * Privileges: EXECUTE is revoked from PUBLIC on every function and granted
--    to photofactory_reader / photofactory_operator explicitly (end of script).

------------------------------------------------------------------------------
-- Roles
------------------------------------------------------------------------------
-- Roles are cluster-wide and are not members of the extension: DROP EXTENSION
-- leaves them (and their memberships) in place, so create them only if missing
-- and a second CREATE EXTENSION must not fail. NOLOGIN: they are groups that
-- login roles are granted into.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'photofactory_reader') THEN
        CREATE ROLE photofactory_reader NOLOGIN;
        COMMENT ON ROLE photofactory_reader IS
            'photofactory: read the media ledger, inbox audit and service health';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'photofactory_operator') THEN
        CREATE ROLE photofactory_operator NOLOGIN;
        COMMENT ON ROLE photofactory_operator IS
            'photofactory: downstream workers and services (claim and mark assets, heartbeats, inspect files)';
    END IF;
    -- GRANT would only emit a NOTICE when the membership exists; keep CREATE
    -- EXTENSION quiet on re-creation.
    IF NOT pg_catalog.pg_has_role('photofactory_operator', 'photofactory_reader', 'MEMBER') THEN
        GRANT photofactory_reader TO photofactory_operator;
    END IF;
END
$roles$;

------------------------------------------------------------------------------
-- Validators used by CHECK constraints
------------------------------------------------------------------------------
-- A location is exactly {"lat": <number>, "lon": <number>} within WGS84 ranges.
-- The CASE fixes the evaluation order: the numeric casts only run once both
-- values are known to be JSON numbers, so a bad shape yields false, not a cast
-- error. Returns false (not NULL) for SQL NULL; the CHECK allows NULL itself.
CREATE FUNCTION photofactory.is_valid_location(loc jsonb)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
    SELECT CASE
        WHEN loc IS NULL OR jsonb_typeof(loc) <> 'object' THEN false
        WHEN (loc - 'lat' - 'lon') <> '{}'::jsonb THEN false
        WHEN jsonb_typeof(loc -> 'lat') IS DISTINCT FROM 'number'
          OR jsonb_typeof(loc -> 'lon') IS DISTINCT FROM 'number' THEN false
        ELSE (loc -> 'lat')::numeric BETWEEN -90 AND 90
         AND (loc -> 'lon')::numeric BETWEEN -180 AND 180
    END
$fn$;
COMMENT ON FUNCTION photofactory.is_valid_location(jsonb) IS
    'true when the value is exactly {"lat": number, "lon": number} with lat in [-90,90] and lon in [-180,180]';

------------------------------------------------------------------------------
-- media_assets: the ledger of every ingested file
------------------------------------------------------------------------------
CREATE TABLE photofactory.media_assets (
    id                 uuid         NOT NULL DEFAULT gen_random_uuid(),
    file_hash          varchar(64)  NOT NULL,
    original_name      varchar(512) NOT NULL,
    original_path      text         NOT NULL,
    final_path         text         NOT NULL,
    size_bytes         bigint       NOT NULL,
    -- Local wall-clock time of capture (it names the YYYY/YYYY-MM-DD folder),
    -- deliberately WITHOUT time zone; utc_offset_minutes carries the offset
    -- when the file recorded one.
    captured_at        timestamp without time zone,
    ingested_at        timestamptz  NOT NULL DEFAULT now(),
    location           jsonb,
    is_ingested        boolean      NOT NULL DEFAULT true,
    is_geocoded        boolean      NOT NULL DEFAULT false,
    is_thumbnailed     boolean      NOT NULL DEFAULT false,
    is_curated         boolean      NOT NULL DEFAULT false,
    is_backed_up       boolean      NOT NULL DEFAULT false,
    has_errors         boolean      NOT NULL DEFAULT false,
    error_message      text,
    geocoded_at        timestamptz,
    thumbnailed_at     timestamptz,
    curated_at         timestamptz,
    backed_up_at       timestamptz,
    created_at         timestamptz  NOT NULL DEFAULT now(),
    -- Additions to the seed (docs/schema.md, "Extra columns").
    updated_at         timestamptz  NOT NULL DEFAULT now(),
    utc_offset_minutes smallint,
    date_source        text,
    media_kind         text,
    media_format       text,
    -- Which zone gave captured_at its offset: 'file', 'gps:<IANA zone>',
    -- 'default:<IANA zone>', 'paired[:...]'; NULL when no zone was involved.
    time_zone          text,
    -- Companions (docs/schema.md): the asset this file travels with, and the
    -- key late companions find their leader by.
    companion_of       uuid,
    group_key          text,

    CONSTRAINT media_assets_pkey PRIMARY KEY (id),
    CONSTRAINT media_assets_file_hash_key UNIQUE (file_hash),
    -- Lower-case hex only: one spelling per content, so UNIQUE really dedups.
    CONSTRAINT media_assets_file_hash_check CHECK (file_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT media_assets_size_bytes_check CHECK (size_bytes >= 0),
    CONSTRAINT media_assets_location_check
        CHECK (location IS NULL OR photofactory.is_valid_location(location)),
    -- Each flag and its timestamp move together (the trigger below keeps them
    -- so; the CHECK is the guarantee even when triggers are bypassed, e.g. by
    -- session_replication_role = replica).
    CONSTRAINT media_assets_geocoded_check    CHECK (is_geocoded    = (geocoded_at    IS NOT NULL)),
    CONSTRAINT media_assets_thumbnailed_check CHECK (is_thumbnailed = (thumbnailed_at IS NOT NULL)),
    CONSTRAINT media_assets_curated_check     CHECK (is_curated     = (curated_at     IS NOT NULL)),
    CONSTRAINT media_assets_backed_up_check   CHECK (is_backed_up   = (backed_up_at   IS NOT NULL)),
    CONSTRAINT media_assets_has_errors_check  CHECK (has_errors     = (error_message  IS NOT NULL)),
    -- An error flag with a blank explanation helps nobody.
    CONSTRAINT media_assets_error_message_check
        CHECK (error_message IS NULL OR btrim(error_message) <> ''),
    CONSTRAINT media_assets_utc_offset_minutes_check
        CHECK (utc_offset_minutes BETWEEN -900 AND 900),
    CONSTRAINT media_assets_date_source_check
        CHECK (date_source IN ('exif_original', 'exif_digitized', 'exif_image', 'xmp',
                               'video_local', 'video_utc', 'filename', 'mtime')),
    CONSTRAINT media_assets_media_kind_check CHECK (media_kind IN ('image', 'video')),
    CONSTRAINT media_assets_time_zone_check
        CHECK (time_zone ~ '^(file|paired|(gps|default|paired):.+)$'),
    CONSTRAINT media_assets_companion_of_check CHECK (companion_of <> id),
    -- One spelling per format ('jpeg', never 'JPEG'), so grouping by it works.
    CONSTRAINT media_assets_media_format_check
        CHECK (media_format <> '' AND media_format = lower(media_format))
);

-- The seed's index names are kept. The seed indexed the boolean flags
-- themselves; a b-tree on a boolean cannot serve "oldest pending first", so the
-- flag indexes are partial indexes on ingested_at whose predicate is exactly
-- the queue's WHERE clause: they hold only pending rows (small, shrinking as
-- work completes) and are read in order, so LIMIT stops early.
CREATE INDEX idx_media_assets_captured_at ON photofactory.media_assets (captured_at);
CREATE INDEX idx_media_assets_ingested_at ON photofactory.media_assets (ingested_at);
CREATE INDEX idx_media_assets_is_geocoded ON photofactory.media_assets (ingested_at)
    WHERE is_ingested AND NOT is_geocoded AND location IS NOT NULL;
CREATE INDEX idx_media_assets_pending_thumbnails ON photofactory.media_assets (ingested_at)
    WHERE is_ingested AND NOT is_thumbnailed;
CREATE INDEX idx_media_assets_pending_curation ON photofactory.media_assets (ingested_at)
    WHERE is_ingested AND NOT is_curated;
CREATE INDEX idx_media_assets_is_backed_up ON photofactory.media_assets (ingested_at)
    WHERE is_ingested AND NOT is_backed_up;
CREATE INDEX idx_media_assets_has_errors ON photofactory.media_assets (ingested_at)
    WHERE has_errors;
CREATE INDEX idx_media_assets_companion_of ON photofactory.media_assets (companion_of)
    WHERE companion_of IS NOT NULL;
CREATE INDEX idx_media_assets_group_key ON photofactory.media_assets (group_key, ingested_at)
    WHERE companion_of IS NULL;

COMMENT ON TABLE photofactory.media_assets IS
    'Ledger of every ingested file (one row per distinct content); see docs/schema.md';
COMMENT ON COLUMN photofactory.media_assets.id IS 'Asset id, generated by the server';
COMMENT ON COLUMN photofactory.media_assets.file_hash IS 'SHA-256 of the content, 64 lower-case hex digits; unique';
COMMENT ON COLUMN photofactory.media_assets.original_name IS 'File name as received in the inbox';
COMMENT ON COLUMN photofactory.media_assets.original_path IS 'Absolute path the file had in the inbox';
COMMENT ON COLUMN photofactory.media_assets.final_path IS 'Absolute path of the file under Storage/Originals/{YYYY}/{YYYY-MM-DD}/';
COMMENT ON COLUMN photofactory.media_assets.size_bytes IS 'File size in bytes (>= 0)';
COMMENT ON COLUMN photofactory.media_assets.captured_at IS 'Local wall-clock capture time (no time zone); names the date folder';
COMMENT ON COLUMN photofactory.media_assets.ingested_at IS 'When the librarian ingested the file (server-set on INSERT)';
COMMENT ON COLUMN photofactory.media_assets.location IS 'GPS position {"lat": number, "lon": number}; immutable once set';
COMMENT ON COLUMN photofactory.media_assets.is_ingested IS 'Always true: a row exists only after a successful ingest';
COMMENT ON COLUMN photofactory.media_assets.is_geocoded IS 'Reverse geocoding done (geocoded_at follows it)';
COMMENT ON COLUMN photofactory.media_assets.is_thumbnailed IS 'Thumbnails generated (thumbnailed_at follows it)';
COMMENT ON COLUMN photofactory.media_assets.is_curated IS 'Curation done (curated_at follows it)';
COMMENT ON COLUMN photofactory.media_assets.is_backed_up IS 'Backed up to external storage (backed_up_at follows it)';
COMMENT ON COLUMN photofactory.media_assets.has_errors IS 'true exactly when error_message is set';
COMMENT ON COLUMN photofactory.media_assets.error_message IS 'Latest processing error, human-readable';
COMMENT ON COLUMN photofactory.media_assets.geocoded_at IS 'When is_geocoded became true (server-set)';
COMMENT ON COLUMN photofactory.media_assets.thumbnailed_at IS 'When is_thumbnailed became true (server-set)';
COMMENT ON COLUMN photofactory.media_assets.curated_at IS 'When is_curated became true (server-set)';
COMMENT ON COLUMN photofactory.media_assets.backed_up_at IS 'When is_backed_up became true (server-set)';
COMMENT ON COLUMN photofactory.media_assets.created_at IS 'When the row was inserted (server-set)';
COMMENT ON COLUMN photofactory.media_assets.updated_at IS 'When the row last changed (server-set on every UPDATE)';
COMMENT ON COLUMN photofactory.media_assets.utc_offset_minutes IS 'UTC offset of captured_at in minutes, when the file recorded one';
COMMENT ON COLUMN photofactory.media_assets.date_source IS 'Which rule produced captured_at (exif_original, ..., filename, mtime)';
COMMENT ON COLUMN photofactory.media_assets.media_kind IS 'image or video';
COMMENT ON COLUMN photofactory.media_assets.media_format IS 'Container/codec family in lower case, e.g. jpeg, heic, mp4';
COMMENT ON COLUMN photofactory.media_assets.time_zone IS 'Where the offset of captured_at came from: file, gps:<zone>, default:<zone>, paired; NULL when no zone was involved';

-- Server-maintained columns and the rules a CHECK cannot express (they need
-- OLD): immutability of location, first-time-wins *_at, created_at/ingested_at
-- fixed at INSERT, updated_at on every UPDATE. Client values for these columns
-- are overridden rather than rejected, so a plain
--   UPDATE photofactory.media_assets SET is_geocoded = true WHERE ...
-- does the right thing.
CREATE FUNCTION photofactory._media_assets_guard()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.ingested_at := now();
        NEW.created_at  := now();
        NEW.updated_at  := now();
        NEW.geocoded_at    := CASE WHEN NEW.is_geocoded    THEN now() END;
        NEW.thumbnailed_at := CASE WHEN NEW.is_thumbnailed THEN now() END;
        NEW.curated_at     := CASE WHEN NEW.is_curated     THEN now() END;
        NEW.backed_up_at   := CASE WHEN NEW.is_backed_up   THEN now() END;
        -- An asset inserted with an error message has errors; has_errors = true
        -- without a message is left for the CHECK to reject.
        NEW.has_errors := NEW.has_errors OR NEW.error_message IS NOT NULL;
        RETURN NEW;
    END IF;

    -- UPDATE
    IF OLD.location IS NOT NULL AND NEW.location IS DISTINCT FROM OLD.location THEN
        RAISE EXCEPTION 'location of media asset % is immutable once set', OLD.id
            USING ERRCODE = 'integrity_constraint_violation',
                  DETAIL = format('Stored location: %s; attempted: %s.',
                                  OLD.location, coalesce(NEW.location::text, 'NULL')),
                  HINT = 'Only a NULL location may be filled in; reverse-geocoded data belongs elsewhere.';
    END IF;
    -- An equal value (e.g. 1.0 for 1) is accepted as a no-op; keep the stored
    -- spelling byte for byte.
    IF OLD.location IS NOT NULL THEN
        NEW.location := OLD.location;
    END IF;

    NEW.ingested_at := OLD.ingested_at;
    NEW.created_at  := OLD.created_at;
    NEW.updated_at  := now();

    -- Flag false: no timestamp. Flag already true: keep the first timestamp.
    -- Flag turning true: now.
    NEW.geocoded_at := CASE WHEN NOT NEW.is_geocoded THEN NULL
                            WHEN OLD.is_geocoded THEN OLD.geocoded_at ELSE now() END;
    NEW.thumbnailed_at := CASE WHEN NOT NEW.is_thumbnailed THEN NULL
                               WHEN OLD.is_thumbnailed THEN OLD.thumbnailed_at ELSE now() END;
    NEW.curated_at := CASE WHEN NOT NEW.is_curated THEN NULL
                           WHEN OLD.is_curated THEN OLD.curated_at ELSE now() END;
    NEW.backed_up_at := CASE WHEN NOT NEW.is_backed_up THEN NULL
                             WHEN OLD.is_backed_up THEN OLD.backed_up_at ELSE now() END;

    -- error_message drives has_errors; turning has_errors off clears the
    -- message. has_errors turned on without a message fails the CHECK.
    IF NEW.error_message IS DISTINCT FROM OLD.error_message THEN
        NEW.has_errors := NEW.error_message IS NOT NULL;
    ELSIF OLD.has_errors AND NOT NEW.has_errors THEN
        NEW.error_message := NULL;
    END IF;
    RETURN NEW;
END
$fn$;

CREATE TRIGGER media_assets_guard
    BEFORE INSERT OR UPDATE ON photofactory.media_assets
    FOR EACH ROW EXECUTE FUNCTION photofactory._media_assets_guard();

------------------------------------------------------------------------------
-- system_status / system_status_history: service heartbeats
------------------------------------------------------------------------------
CREATE TABLE photofactory.system_status (
    service_name   varchar(64) NOT NULL,
    last_heartbeat timestamptz NOT NULL DEFAULT now(),
    status         varchar(16) NOT NULL DEFAULT 'OK',
    current_task   text,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT system_status_pkey PRIMARY KEY (service_name),
    CONSTRAINT system_status_service_name_check CHECK (btrim(service_name) <> ''),
    CONSTRAINT system_status_status_check CHECK (status IN ('OK', 'ERROR', 'WARNING'))
);
COMMENT ON TABLE photofactory.system_status IS
    'Current heartbeat and status of each service (one row per service, updated in place by photofactory.heartbeat)';
COMMENT ON COLUMN photofactory.system_status.service_name IS 'Service id, e.g. librarian, factory-db, syncthing, dashboard';
COMMENT ON COLUMN photofactory.system_status.last_heartbeat IS 'Time of the latest heartbeat (server-set on every write)';
COMMENT ON COLUMN photofactory.system_status.status IS 'OK, ERROR or WARNING';
COMMENT ON COLUMN photofactory.system_status.current_task IS 'What the service is doing, free text; may be NULL';
COMMENT ON COLUMN photofactory.system_status.updated_at IS 'Time of the latest change (server-set on every write)';

-- As in the seed (onupdate=now()), every write to a status row is a heartbeat:
-- both timestamps are the server's clock, never the client's.
CREATE FUNCTION photofactory._system_status_stamp()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
BEGIN
    NEW.last_heartbeat := now();
    NEW.updated_at := now();
    RETURN NEW;
END
$fn$;

CREATE TRIGGER system_status_stamp
    BEFORE INSERT OR UPDATE ON photofactory.system_status
    FOR EACH ROW EXECUTE FUNCTION photofactory._system_status_stamp();

CREATE TABLE photofactory.system_status_history (
    -- bigint rather than the seed's integer: one row per heartbeat per service
    -- never stops growing the sequence, even though retention trims the rows.
    id                  bigint      GENERATED ALWAYS AS IDENTITY,
    service_name        varchar(64) NOT NULL,
    status              varchar(16) NOT NULL,
    current_task        text,
    heartbeat_timestamp timestamptz NOT NULL DEFAULT now(),
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT system_status_history_pkey PRIMARY KEY (id),
    CONSTRAINT system_status_history_service_name_check CHECK (btrim(service_name) <> ''),
    CONSTRAINT system_status_history_status_check CHECK (status IN ('OK', 'ERROR', 'WARNING'))
);
CREATE INDEX idx_system_status_history_service_timestamp
    ON photofactory.system_status_history (service_name, heartbeat_timestamp);
-- Rows arrive in time order, so a BRIN index is tiny and lets retention find
-- old rows across all services without scanning the whole table.
CREATE INDEX idx_system_status_history_heartbeat_brin
    ON photofactory.system_status_history USING brin (heartbeat_timestamp);

COMMENT ON TABLE photofactory.system_status_history IS
    'One row per heartbeat (time series); trimmed by photofactory.cleanup_history()';
COMMENT ON COLUMN photofactory.system_status_history.id IS 'Generated row id';
COMMENT ON COLUMN photofactory.system_status_history.service_name IS 'Service id (same values as system_status.service_name)';
COMMENT ON COLUMN photofactory.system_status_history.status IS 'Status at this heartbeat: OK, ERROR or WARNING';
COMMENT ON COLUMN photofactory.system_status_history.current_task IS 'Task at this heartbeat';
COMMENT ON COLUMN photofactory.system_status_history.heartbeat_timestamp IS 'When the heartbeat happened (retention is based on it)';
COMMENT ON COLUMN photofactory.system_status_history.created_at IS 'When the row was inserted (server-set)';

-- created_at is the audit column: always the server's clock.
-- heartbeat_timestamp may be supplied (e.g. when importing history).
CREATE FUNCTION photofactory._system_status_history_stamp()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
BEGIN
    NEW.created_at := now();
    RETURN NEW;
END
$fn$;

CREATE TRIGGER system_status_history_stamp
    BEFORE INSERT ON photofactory.system_status_history
    FOR EACH ROW EXECUTE FUNCTION photofactory._system_status_history_stamp();

------------------------------------------------------------------------------
-- inbox_events: what happened to each file that reached the inbox
------------------------------------------------------------------------------
CREATE TABLE photofactory.inbox_events (
    id            bigint      GENERATED ALWAYS AS IDENTITY,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    outcome       text        NOT NULL,
    original_name text        NOT NULL,
    original_path text        NOT NULL,
    stored_path   text,
    file_hash     text,
    size_bytes    bigint,
    -- The media_assets row the file became (ingested) or duplicates
    -- (duplicate). No foreign key, as in the seed: the filesystem is the source
    -- of truth, and the audit must outlive a deleted ledger row.
    asset_id      uuid,
    reason        text,
    CONSTRAINT inbox_events_pkey PRIMARY KEY (id),
    CONSTRAINT inbox_events_outcome_check CHECK (outcome IN ('ingested', 'duplicate', 'sidecar', 'rejected')),
    CONSTRAINT inbox_events_file_hash_check CHECK (file_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT inbox_events_size_bytes_check CHECK (size_bytes >= 0),
    -- A file that was read (ingested or found to be a duplicate) has a hash and
    -- an asset it is or duplicates; a rejected file may have neither.
    CONSTRAINT inbox_events_read_outcome_check
        CHECK (outcome = 'rejected' OR (file_hash IS NOT NULL AND asset_id IS NOT NULL))
);
CREATE INDEX idx_inbox_events_occurred_at ON photofactory.inbox_events (occurred_at);
CREATE INDEX idx_inbox_events_original_name ON photofactory.inbox_events (original_name);
CREATE INDEX idx_inbox_events_file_hash ON photofactory.inbox_events (file_hash);

COMMENT ON TABLE photofactory.inbox_events IS
    'Audit of inbox outcomes: one row per file the librarian ingested, set aside as duplicate, or rejected';
COMMENT ON COLUMN photofactory.inbox_events.outcome IS 'ingested, duplicate or rejected';
COMMENT ON COLUMN photofactory.inbox_events.stored_path IS 'Where the file went (Originals/, Duplicates/ or Rejected/)';
COMMENT ON COLUMN photofactory.inbox_events.asset_id IS 'media_assets.id the file became or duplicates (no foreign key)';
COMMENT ON COLUMN photofactory.inbox_events.reason IS 'Why (rejections, duplicates), free text';

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

CREATE FUNCTION photofactory.pending_geocoding(p_limit integer DEFAULT 100)
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
        SELECT * FROM photofactory.media_assets
         WHERE is_ingested AND NOT is_geocoded AND location IS NOT NULL
         ORDER BY ingested_at
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED;
END
$fn$;
COMMENT ON FUNCTION photofactory.pending_geocoding(integer) IS
    'Claims up to p_limit assets with a location awaiting geocoding, oldest first (FOR UPDATE SKIP LOCKED)';

CREATE FUNCTION photofactory.pending_thumbnails(p_limit integer DEFAULT 100)
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
        SELECT * FROM photofactory.media_assets
         WHERE is_ingested AND NOT is_thumbnailed
         ORDER BY ingested_at
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED;
END
$fn$;
COMMENT ON FUNCTION photofactory.pending_thumbnails(integer) IS
    'Claims up to p_limit assets awaiting thumbnails, oldest first (FOR UPDATE SKIP LOCKED)';

CREATE FUNCTION photofactory.pending_curation(p_limit integer DEFAULT 100)
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
        SELECT * FROM photofactory.media_assets
         WHERE is_ingested AND NOT is_curated
         ORDER BY ingested_at
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED;
END
$fn$;
COMMENT ON FUNCTION photofactory.pending_curation(integer) IS
    'Claims up to p_limit assets awaiting curation, oldest first (FOR UPDATE SKIP LOCKED)';

CREATE FUNCTION photofactory.pending_backup(p_limit integer DEFAULT 100)
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
        SELECT * FROM photofactory.media_assets
         WHERE is_ingested AND NOT is_backed_up
         ORDER BY ingested_at
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED;
END
$fn$;
COMMENT ON FUNCTION photofactory.pending_backup(integer) IS
    'Claims up to p_limit assets awaiting backup, oldest first (FOR UPDATE SKIP LOCKED)';

------------------------------------------------------------------------------
-- Read-only listings (no locks)
------------------------------------------------------------------------------
CREATE FUNCTION photofactory.assets_with_errors(p_limit integer DEFAULT 100)
RETURNS SETOF photofactory.media_assets
LANGUAGE plpgsql STABLE
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
        SELECT * FROM photofactory.media_assets
         WHERE has_errors
         ORDER BY ingested_at DESC
         LIMIT p_limit;
END
$fn$;
COMMENT ON FUNCTION photofactory.assets_with_errors(integer) IS
    'Up to p_limit assets with has_errors, most recently ingested first (read-only)';

CREATE FUNCTION photofactory.recent_assets(p_limit integer DEFAULT 100)
RETURNS SETOF photofactory.media_assets
LANGUAGE plpgsql STABLE
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
        SELECT * FROM photofactory.media_assets
         ORDER BY ingested_at DESC
         LIMIT p_limit;
END
$fn$;
COMMENT ON FUNCTION photofactory.recent_assets(integer) IS
    'Up to p_limit most recently ingested assets (read-only)';

------------------------------------------------------------------------------
-- Marking work done
------------------------------------------------------------------------------
-- Each returns how many rows it newly marked: marking twice returns 0 and
-- keeps the first *_at. The single-id form raises no_data_found for an unknown
-- id (a worker only marks what it claimed, so that is a bug worth surfacing).
-- The array form ignores unknown ids: one asset deleted meanwhile must not
-- throw away the rest of a batch; compare the count with the batch size.
-- Duplicate ids in the array count once. NULL ids are errors in both forms.

CREATE FUNCTION photofactory.mark_geocoded(id uuid)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    n integer;
BEGIN
    IF mark_geocoded.id IS NULL THEN
        RAISE EXCEPTION 'id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE photofactory.media_assets AS a SET is_geocoded = true
     WHERE a.id = mark_geocoded.id AND NOT a.is_geocoded;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 AND NOT EXISTS (SELECT 1 FROM photofactory.media_assets AS a WHERE a.id = mark_geocoded.id) THEN
        RAISE EXCEPTION 'media asset % does not exist', mark_geocoded.id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN n;
END
$fn$;

CREATE FUNCTION photofactory.mark_geocoded(ids uuid[])
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    n integer;
BEGIN
    IF ids IS NULL THEN
        RAISE EXCEPTION 'ids must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF EXISTS (SELECT 1 FROM unnest(ids) AS u(v) WHERE u.v IS NULL) THEN
        RAISE EXCEPTION 'ids must not contain NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE photofactory.media_assets AS a SET is_geocoded = true
     WHERE a.id = ANY (ids) AND NOT a.is_geocoded;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$fn$;

CREATE FUNCTION photofactory.mark_thumbnailed(id uuid)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    n integer;
BEGIN
    IF mark_thumbnailed.id IS NULL THEN
        RAISE EXCEPTION 'id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE photofactory.media_assets AS a SET is_thumbnailed = true
     WHERE a.id = mark_thumbnailed.id AND NOT a.is_thumbnailed;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 AND NOT EXISTS (SELECT 1 FROM photofactory.media_assets AS a WHERE a.id = mark_thumbnailed.id) THEN
        RAISE EXCEPTION 'media asset % does not exist', mark_thumbnailed.id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN n;
END
$fn$;

CREATE FUNCTION photofactory.mark_thumbnailed(ids uuid[])
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    n integer;
BEGIN
    IF ids IS NULL THEN
        RAISE EXCEPTION 'ids must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF EXISTS (SELECT 1 FROM unnest(ids) AS u(v) WHERE u.v IS NULL) THEN
        RAISE EXCEPTION 'ids must not contain NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE photofactory.media_assets AS a SET is_thumbnailed = true
     WHERE a.id = ANY (ids) AND NOT a.is_thumbnailed;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$fn$;

CREATE FUNCTION photofactory.mark_curated(id uuid)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    n integer;
BEGIN
    IF mark_curated.id IS NULL THEN
        RAISE EXCEPTION 'id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE photofactory.media_assets AS a SET is_curated = true
     WHERE a.id = mark_curated.id AND NOT a.is_curated;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 AND NOT EXISTS (SELECT 1 FROM photofactory.media_assets AS a WHERE a.id = mark_curated.id) THEN
        RAISE EXCEPTION 'media asset % does not exist', mark_curated.id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN n;
END
$fn$;

CREATE FUNCTION photofactory.mark_curated(ids uuid[])
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    n integer;
BEGIN
    IF ids IS NULL THEN
        RAISE EXCEPTION 'ids must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF EXISTS (SELECT 1 FROM unnest(ids) AS u(v) WHERE u.v IS NULL) THEN
        RAISE EXCEPTION 'ids must not contain NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE photofactory.media_assets AS a SET is_curated = true
     WHERE a.id = ANY (ids) AND NOT a.is_curated;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$fn$;

CREATE FUNCTION photofactory.mark_backed_up(id uuid)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    n integer;
BEGIN
    IF mark_backed_up.id IS NULL THEN
        RAISE EXCEPTION 'id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE photofactory.media_assets AS a SET is_backed_up = true
     WHERE a.id = mark_backed_up.id AND NOT a.is_backed_up;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 AND NOT EXISTS (SELECT 1 FROM photofactory.media_assets AS a WHERE a.id = mark_backed_up.id) THEN
        RAISE EXCEPTION 'media asset % does not exist', mark_backed_up.id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN n;
END
$fn$;

CREATE FUNCTION photofactory.mark_backed_up(ids uuid[])
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    n integer;
BEGIN
    IF ids IS NULL THEN
        RAISE EXCEPTION 'ids must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF EXISTS (SELECT 1 FROM unnest(ids) AS u(v) WHERE u.v IS NULL) THEN
        RAISE EXCEPTION 'ids must not contain NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE photofactory.media_assets AS a SET is_backed_up = true
     WHERE a.id = ANY (ids) AND NOT a.is_backed_up;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$fn$;

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

------------------------------------------------------------------------------
-- Heartbeats and service health
------------------------------------------------------------------------------
-- One call = one heartbeat: the status row is upserted and a history row is
-- appended in the same transaction. Status is accepted in any case and stored
-- upper-case. Returns the new system_status row.
CREATE FUNCTION photofactory.heartbeat(service text, status text DEFAULT 'OK', task text DEFAULT NULL)
RETURNS photofactory.system_status
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    v_service text := heartbeat.service;
    v_status  text := upper(heartbeat.status);
    v_task    text := heartbeat.task;
    r         photofactory.system_status;
BEGIN
    IF v_service IS NULL THEN
        RAISE EXCEPTION 'service must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF btrim(v_service) = '' THEN
        RAISE EXCEPTION 'service must not be empty' USING ERRCODE = 'invalid_parameter_value';
    ELSIF char_length(v_service) > 64 THEN
        RAISE EXCEPTION 'service must be at most 64 characters (got %)', char_length(v_service)
            USING ERRCODE = 'invalid_parameter_value';
    ELSIF v_status IS NULL THEN
        RAISE EXCEPTION 'status must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF v_status NOT IN ('OK', 'ERROR', 'WARNING') THEN
        RAISE EXCEPTION 'status must be one of OK, ERROR, WARNING (got %)', quote_literal(heartbeat.status)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    INSERT INTO photofactory.system_status AS s (service_name, status, current_task)
    VALUES (v_service, v_status, v_task)
    ON CONFLICT (service_name) DO UPDATE
        SET status = excluded.status, current_task = excluded.current_task
    RETURNING s.* INTO r;   -- the trigger stamped last_heartbeat/updated_at

    INSERT INTO photofactory.system_status_history
        (service_name, status, current_task, heartbeat_timestamp)
    VALUES (v_service, v_status, v_task, r.last_heartbeat);
    RETURN r;
END
$fn$;
COMMENT ON FUNCTION photofactory.heartbeat(text, text, text) IS
    'Records a heartbeat: upserts system_status and appends to system_status_history; returns the status row';

-- The seed's dashboard query as a view: green <= 60 s, yellow <= 180 s, red
-- beyond, from the age of the last heartbeat (status is reported separately).
CREATE VIEW photofactory.service_health AS
SELECT s.service_name,
       s.status,
       s.current_task,
       s.last_heartbeat,
       h.age,
       extract(epoch FROM h.age) AS age_seconds,
       CASE WHEN h.age <= interval '60 seconds'  THEN 'green'
            WHEN h.age <= interval '180 seconds' THEN 'yellow'
            ELSE 'red'
       END AS colour
  FROM photofactory.system_status AS s
 CROSS JOIN LATERAL (SELECT now() - s.last_heartbeat AS age) AS h;
COMMENT ON VIEW photofactory.service_health IS
    'Each service''s latest heartbeat with its age and a colour: green <= 60 s, yellow <= 180 s, red beyond';

------------------------------------------------------------------------------
-- History retention (and its pg_cron job)
------------------------------------------------------------------------------
-- photofactory.history_retention is an integer GUC in minutes defined by the C
-- library; pg_settings gives its raw value in that unit. When the library is
-- not loaded, the GUC is not defined (pg_settings hides placeholders) and the
-- seed's 60 days apply.
CREATE FUNCTION photofactory.cleanup_history(retention interval DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    v_retention interval := cleanup_history.retention;
    n bigint;
BEGIN
    IF v_retention IS NULL THEN
        SELECT st.setting::bigint * interval '1 minute' INTO v_retention
          FROM pg_catalog.pg_settings AS st
         WHERE st.name = 'photofactory.history_retention' AND st.unit = 'min';
        v_retention := coalesce(v_retention, interval '60 days');
    END IF;
    IF v_retention <= interval '0' THEN
        RAISE EXCEPTION 'retention must be positive (got %)', v_retention
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    DELETE FROM photofactory.system_status_history AS h
     WHERE h.heartbeat_timestamp < now() - v_retention;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION photofactory.cleanup_history(interval) IS
    'Deletes system_status_history rows older than retention (default: photofactory.history_retention, else 60 days); returns the count';

-- pg_cron is optional: its objects are only referenced through EXECUTE so this
-- script loads without it.
--
-- SECURITY DEFINER on purpose: pg_cron keys jobs by (jobname, username), so if
-- each caller scheduled as itself, every operator calling this would add its
-- own copy of the job. Running as the extension owner keeps exactly one job,
-- owned by the same role as the extension, which runs cleanup_history() with
-- that role's rights; callers need no rights on pg_cron's schema. Only the
-- schedule string comes from the caller and it is passed as a parameter.
CREATE FUNCTION photofactory.schedule_retention(schedule text DEFAULT '17 3 * * *')
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    v_jobid bigint;
BEGIN
    IF schedule IS NULL THEN
        RAISE EXCEPTION 'schedule must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF btrim(schedule) = '' THEN
        RAISE EXCEPTION 'schedule must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Add pg_cron to shared_preload_libraries, set cron.database_name = %L, '
                                'restart the server, then run: CREATE EXTENSION pg_cron; '
                                'SELECT photofactory.schedule_retention();', current_database());
    END IF;
    -- pg_cron >= 1.3 upserts by (jobname, username): calling again changes the
    -- schedule of the same job and returns its id.
    EXECUTE 'SELECT cron.schedule($1, $2, $3)'
       INTO v_jobid
      USING 'photofactory-history-retention', schedule, 'SELECT photofactory.cleanup_history()';
    RETURN v_jobid;
END
$fn$;
COMMENT ON FUNCTION photofactory.schedule_retention(text) IS
    'Creates or updates the pg_cron job photofactory-history-retention running cleanup_history(); returns the job id';

CREATE FUNCTION photofactory.unschedule_retention()
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
DECLARE
    v_jobid bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Without pg_cron there is no retention job to remove.';
    END IF;
    -- Same owner as schedule_retention() (both SECURITY DEFINER), so this finds
    -- exactly the job it created. cron.unschedule errors on unknown jobs, hence
    -- the lookup first.
    EXECUTE 'SELECT jobid FROM cron.job WHERE jobname = $1 AND username = current_user'
       INTO v_jobid
      USING 'photofactory-history-retention';
    IF v_jobid IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT cron.unschedule($1)' USING v_jobid;
    RETURN true;
END
$fn$;
COMMENT ON FUNCTION photofactory.unschedule_retention() IS
    'Removes the pg_cron job photofactory-history-retention; returns false if there was none';

------------------------------------------------------------------------------
-- Privileges
------------------------------------------------------------------------------
-- Nothing is callable by PUBLIC unless granted below.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA photofactory FROM PUBLIC;

-- The location validator runs inside a CHECK constraint, and PostgreSQL checks
-- EXECUTE on functions in constraints against whoever writes the row: without
-- this grant, any role an administrator allows to INSERT/UPDATE media_assets
-- would fail with "permission denied for function is_valid_location". It is a
-- pure function of its argument, so PUBLIC may have it.
GRANT EXECUTE ON FUNCTION photofactory.is_valid_location(jsonb) TO PUBLIC;

GRANT USAGE ON SCHEMA photofactory TO photofactory_reader, photofactory_operator;

-- Reader: look, never touch.
GRANT SELECT ON photofactory.media_assets, photofactory.system_status,
                photofactory.system_status_history, photofactory.inbox_events,
                photofactory.service_health
   TO photofactory_reader;
GRANT EXECUTE ON FUNCTION photofactory.recent_assets(integer),
                          photofactory.assets_with_errors(integer)
   TO photofactory_reader;

-- Operator (member of reader). Table rights are the minimum the functions it
-- may call need, since they run as the caller:
--  * UPDATE on the flag and error columns only: mark_*/record_error/clear_error
--    write those (the trigger fills the timestamps, which needs no right), and
--    pending_*'s FOR UPDATE needs UPDATE on at least one column.
--  * system_status INSERT+UPDATE (heartbeat's upsert), history INSERT
--    (heartbeat) and DELETE (cleanup_history).
GRANT UPDATE (is_geocoded, is_thumbnailed, is_curated, is_backed_up, has_errors, error_message)
   ON photofactory.media_assets TO photofactory_operator;
GRANT INSERT, UPDATE ON photofactory.system_status TO photofactory_operator;
GRANT INSERT, DELETE ON photofactory.system_status_history TO photofactory_operator;
GRANT EXECUTE ON FUNCTION
        photofactory.pending_geocoding(integer),
        photofactory.pending_thumbnails(integer),
        photofactory.pending_curation(integer),
        photofactory.pending_backup(integer),
        photofactory.mark_geocoded(uuid),    photofactory.mark_geocoded(uuid[]),
        photofactory.mark_thumbnailed(uuid), photofactory.mark_thumbnailed(uuid[]),
        photofactory.mark_curated(uuid),     photofactory.mark_curated(uuid[]),
        photofactory.mark_backed_up(uuid),   photofactory.mark_backed_up(uuid[]),
        photofactory.record_error(uuid, text),
        photofactory.clear_error(uuid),
        photofactory.heartbeat(text, text, text),
        photofactory.cleanup_history(interval),
        photofactory.schedule_retention(text),
        photofactory.unschedule_retention()
   TO photofactory_operator;

------------------------------------------------------------------------------
-- Schedule retention when pg_cron is here
------------------------------------------------------------------------------
-- CREATE EXTENSION raises client_min_messages to WARNING while the script
-- runs, so a NOTICE here would never reach the user: this is a WARNING.
DO $cron$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        PERFORM photofactory.schedule_retention();
    ELSE
        RAISE WARNING 'photofactory: history retention is not scheduled (pg_cron is not installed in database "%")',
                     current_database()
            USING HINT = 'To schedule it: CREATE EXTENSION pg_cron; SELECT photofactory.schedule_retention(); '
                         '(pg_cron must be in shared_preload_libraries with cron.database_name set to this '
                         'database). Until then, run SELECT photofactory.cleanup_history(); periodically.';
    END IF;
END
$cron$;

-- === C functions of the librarian (src/pg) ===
-- Functions implemented in photofactory.so. Every function added here must be
-- followed by its own REVOKE ALL ... FROM PUBLIC and explicit GRANTs: the
-- blanket REVOKE above ran before these exist.

-- Reads a file on the server (hash, size, format, capture date and its source,
-- location, planned destination). It touches the server's filesystem with the
-- server's rights, so it is operator-only.
CREATE FUNCTION photofactory.inspect_file(path text) RETURNS jsonb AS 'MODULE_PATHNAME', 'pf_inspect_file' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION photofactory.inspect_file(text) IS
    'Reads a file on the server and returns what the librarian would learn from it and where it would put it (jsonb)';
REVOKE ALL ON FUNCTION photofactory.inspect_file(text) FROM PUBLIC;
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
CREATE FUNCTION photofactory._journal_finish_many(p_ids bigint[], p_final_rels text[])
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
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
$$;

-- One finished move (recovery, tests): the asset id it recorded or referred to.
CREATE FUNCTION photofactory._journal_finish(p_id bigint, p_final_rel text)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
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
$$;

CREATE FUNCTION photofactory.ingest_now()
RETURNS integer
AS 'MODULE_PATHNAME', 'pf_ingest_now'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION photofactory.ingest_now() IS
    'Wakes every librarian for an immediate inbox scan; returns how many were woken.';

CREATE FUNCTION photofactory._ingest_file_json(path text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pf_ingest_file_json'
LANGUAGE C VOLATILE;

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
LANGUAGE C VOLATILE;

CREATE FUNCTION photofactory.inbox_report()
RETURNS TABLE (path text, size_bytes bigint, modified_at timestamptz, state text, detail text)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
    SELECT r.path, r.size_bytes, to_timestamp(r.mtime_epoch), r.state, r.detail
      FROM jsonb_to_recordset(photofactory._inbox_report_json())
           AS r(path text, size_bytes bigint, mtime_epoch bigint, state text, detail text)
$$;
COMMENT ON FUNCTION photofactory.inbox_report() IS
    'Lists what waits in the inbox and why (ready, settling, temporary, unsupported, ...).';

-- Filesystem-touching and state-changing: operators only.
REVOKE ALL ON FUNCTION photofactory._journal_finish(bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._journal_finish_many(bigint[], text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.ingest_now() FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._ingest_file_json(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.ingest_file(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._inbox_report_json() FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.inbox_report() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION photofactory.ingest_now() TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory._ingest_file_json(text) TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory.ingest_file(text) TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory._inbox_report_json() TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory.inbox_report() TO photofactory_operator;
GRANT SELECT ON photofactory.ingest_journal TO photofactory_reader;

-- === Integrity: verification of stored originals, reconciliation ===
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

CREATE FUNCTION photofactory._hash_stored_file(path text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pf_hash_stored_file'
LANGUAGE C VOLATILE;

CREATE FUNCTION photofactory._list_originals()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pf_list_originals'
LANGUAGE C VOLATILE;

-- Re-hashes the given assets' stored files, records each result, returns the problems.
CREATE FUNCTION photofactory._verify_ids(p_ids uuid[])
RETURNS TABLE (asset_id uuid, final_path text, status text, detail text)
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
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
$$;

-- The assets a check covers: never checked, or checked before p_checked_before;
-- optionally only those not verified since a time, and a deterministic sample.
CREATE FUNCTION photofactory._verify_batch(p_limit integer, p_checked_before timestamptz,
                                           p_not_verified_since timestamptz, p_sample double precision,
                                           p_seed bigint)
RETURNS TABLE (asset_id uuid, final_path text, status text, detail text)
LANGUAGE sql
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
    SELECT * FROM photofactory._verify_ids(ARRAY(
        SELECT m.id
          FROM photofactory.media_assets m
          LEFT JOIN photofactory.asset_integrity i ON i.asset_id = m.id
         WHERE (i.checked_at IS NULL OR i.checked_at < p_checked_before)
           AND (p_not_verified_since IS NULL OR i.checked_at IS NULL OR i.checked_at < p_not_verified_since)
           AND (p_sample IS NULL OR (abs(hashtextextended(m.id::text, p_seed)) % 1000000) < p_sample * 1000000)
         ORDER BY i.checked_at NULLS FIRST, m.id
         LIMIT p_limit))
$$;

CREATE FUNCTION photofactory.verify_assets(p_limit integer DEFAULT 1000,
                                           p_not_verified_since timestamptz DEFAULT NULL,
                                           p_sample double precision DEFAULT NULL)
RETURNS TABLE (asset_id uuid, final_path text, status text, detail text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
BEGIN
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
COMMENT ON FUNCTION photofactory.verify_assets(integer, timestamptz, double precision) IS
    'Re-hashes up to p_limit stored originals now (least recently checked first) and returns the problems found.';

CREATE FUNCTION photofactory.start_verification(p_not_verified_since timestamptz DEFAULT NULL,
                                                p_sample double precision DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
DECLARE v_id bigint;
BEGIN
    IF p_sample IS NOT NULL AND (p_sample <= 0 OR p_sample > 1) THEN
        RAISE EXCEPTION 'p_sample must be in (0, 1]' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO photofactory.verification_runs (not_verified_since, sample)
    VALUES (p_not_verified_since, p_sample) RETURNING id INTO v_id;
    RETURN v_id;
END;
$$;
COMMENT ON FUNCTION photofactory.start_verification(timestamptz, double precision) IS
    'Queues a background verification of the stored originals (worked through by factory-db); returns its id.';

CREATE FUNCTION photofactory.cancel_verification(p_id bigint)
RETURNS boolean
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
    UPDATE photofactory.verification_runs SET status = 'cancelled', finished_at = now()
     WHERE id = p_id AND status IN ('pending', 'running')
    RETURNING true
$$;

-- One batch of the oldest active run; returns a progress line, or NULL when idle.
-- The run walks the ledger in id order from last_asset: each batch is an index
-- range scan of p_batch rows, whatever the size of the ledger.
CREATE FUNCTION photofactory._verification_step(p_batch integer)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, photofactory, pg_temp
AS $$
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
$$;

CREATE FUNCTION photofactory.reconcile()
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
    )
    SELECT 'missing_file', o.final_path, o.id FROM originals o
     WHERE NOT EXISTS (SELECT 1 FROM on_disk d WHERE d.path = o.final_path)
    UNION ALL
    SELECT 'orphan_file', d.path, NULL::uuid FROM on_disk d
     WHERE NOT EXISTS (SELECT 1 FROM originals o WHERE o.final_path = d.path)
    ORDER BY 1, 2
$$;
COMMENT ON FUNCTION photofactory.reconcile() IS
    'Ledger rows whose file is missing, and files under Originals/ with no row. Changes nothing.';

CREATE FUNCTION photofactory.adopt_orphan(p_path text)
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
    IF left(p_path, length(v_root)) <> v_root OR p_path LIKE '%/../%' THEN
        RAISE EXCEPTION 'only files under % can be adopted: "%"', v_root, p_path
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
COMMENT ON FUNCTION photofactory.adopt_orphan(text) IS
    'Records a file found under Originals/ without a ledger row (hash + metadata), in place.';

REVOKE ALL ON FUNCTION photofactory._hash_stored_file(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._list_originals() FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._verify_batch(integer, timestamptz, timestamptz, double precision, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._verification_step(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory._verify_ids(uuid[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.verify_assets(integer, timestamptz, double precision) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.start_verification(timestamptz, double precision) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.cancel_verification(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.reconcile() FROM PUBLIC;
REVOKE ALL ON FUNCTION photofactory.adopt_orphan(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION photofactory.verify_assets(integer, timestamptz, double precision) TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory.start_verification(timestamptz, double precision) TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory.cancel_verification(bigint) TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory.reconcile() TO photofactory_operator;
GRANT EXECUTE ON FUNCTION photofactory.adopt_orphan(text) TO photofactory_operator;
GRANT SELECT ON photofactory.asset_integrity, photofactory.verification_runs TO photofactory_reader;
