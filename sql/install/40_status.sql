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
    'Records a heartbeat: upserts system_status and appends to system_status_history; returns the status row. A name not seen before registers a new service (remove one with forget_service)';

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
COMMENT ON COLUMN photofactory.service_health.service_name IS 'Service id (system_status.service_name)';
COMMENT ON COLUMN photofactory.service_health.status IS 'Last reported status: OK, ERROR or WARNING';
COMMENT ON COLUMN photofactory.service_health.current_task IS 'Last reported task';
COMMENT ON COLUMN photofactory.service_health.last_heartbeat IS 'Time of the latest heartbeat';
COMMENT ON COLUMN photofactory.service_health.age IS 'now() - last_heartbeat';
COMMENT ON COLUMN photofactory.service_health.age_seconds IS 'age in seconds';
COMMENT ON COLUMN photofactory.service_health.colour IS 'green when age <= 60 s, yellow when <= 180 s, red beyond (heartbeat age only)';

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


-- A service appears with its first heartbeat() (there is no list of known
-- services: the dashboard, a geocoder or a sync checker register that way),
-- so a misspelt name leaves a row behind; a retired service too. forget_service
-- removes it. Its history stays until retention trims it. A service still
-- running simply comes back with its next heartbeat.
CREATE FUNCTION photofactory.forget_service(service text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
BEGIN
    IF forget_service.service IS NULL THEN
        RAISE EXCEPTION 'service must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    DELETE FROM photofactory.system_status AS s WHERE s.service_name = forget_service.service;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'service % has no status row', quote_literal(forget_service.service)
            USING ERRCODE = 'no_data_found',
                  HINT = 'SELECT service_name FROM photofactory.system_status; lists the known ones.';
    END IF;
END
$fn$;
COMMENT ON FUNCTION photofactory.forget_service(text) IS
    'Removes a service''s system_status row (a misspelt or retired service); its history stays until retention; unknown name raises';
GRANT EXECUTE ON FUNCTION photofactory.forget_service(text) TO photofactory_operator;

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

