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
    -- Written without a regular expression (the same rule as
    -- ~ '^[0-9a-f]{64}$'): every UPDATE of a row re-checks it, and the regex
    -- cost each service's mark more than the rest of the CHECKs together.
    CONSTRAINT media_assets_file_hash_check
        CHECK (length(file_hash) = 64 AND ltrim(file_hash, '0123456789abcdef') = ''),
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
    -- 'iptc': IPTC DateCreated + TimeCreated, ranked with the other creation
    -- dates, before EXIF ModifyDate; 'makernote': a vendor date in the maker
    -- notes, when no standard tag exists.
    CONSTRAINT media_assets_date_source_check
        CHECK (date_source IN ('exif_original', 'exif_digitized', 'exif_image', 'xmp', 'iptc', 'makernote',
                               'video_local', 'video_utc', 'filename', 'mtime')),
    CONSTRAINT media_assets_media_kind_check CHECK (media_kind IN ('image', 'video')),
    -- The rule of ~ '^(file|paired|(gps|default|paired):.+)$' without a
    -- regular expression (see media_assets_file_hash_check).
    CONSTRAINT media_assets_time_zone_check
        CHECK (time_zone IN ('file', 'paired')
               OR time_zone LIKE 'gps:_%' OR time_zone LIKE 'default:_%' OR time_zone LIKE 'paired:_%'),
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
COMMENT ON COLUMN photofactory.media_assets.companion_of IS 'The asset this file travels with (Live Photo video, RAW of a JPEG, edited rendition); NULL for a leader';
COMMENT ON COLUMN photofactory.media_assets.group_key IS 'Companion key (folder + base name) by which late companions find their leader';

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
COMMENT ON FUNCTION photofactory._media_assets_guard() IS
    'Trigger: server-set timestamps, flag/timestamp pairing and location immutability of media_assets';

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
-- A mark that costs what the row costs (geocoder throughput).
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
-- NULLs make the predicate NULL, which fires the guard. The COPY exemption above
-- is kept on both triggers. test/pgtap/62_guard_when.sql checks it.
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
COMMENT ON FUNCTION photofactory._system_status_stamp() IS 'Trigger: every write to system_status is a heartbeat (server clock)';

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
COMMENT ON FUNCTION photofactory._system_status_history_stamp() IS 'Trigger: created_at of system_status_history is the server clock';

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
COMMENT ON COLUMN photofactory.inbox_events.id IS 'Generated row id';
COMMENT ON COLUMN photofactory.inbox_events.occurred_at IS 'When the outcome was recorded (server-set)';
COMMENT ON COLUMN photofactory.inbox_events.original_name IS 'File name as received in the inbox';
COMMENT ON COLUMN photofactory.inbox_events.original_path IS 'Absolute path the file had in the inbox';
COMMENT ON COLUMN photofactory.inbox_events.file_hash IS 'SHA-256 of the content (NULL for a file rejected unread)';
COMMENT ON COLUMN photofactory.inbox_events.size_bytes IS 'File size in bytes, when known';

