------------------------------------------------------------------------------
-- Privileges
------------------------------------------------------------------------------

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

-- Nothing is callable by PUBLIC unless granted: one blanket REVOKE after every
-- part has created its functions (the parts grant to the roles beside each
-- object, and REVOKE ... FROM PUBLIC leaves those grants alone).
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA photofactory FROM PUBLIC;

-- The location validator runs inside a CHECK constraint, and PostgreSQL checks
-- EXECUTE on functions in constraints against whoever writes the row: without
-- this grant, any role an administrator allows to INSERT/UPDATE media_assets
-- would fail with "permission denied for function is_valid_location". It is a
-- pure function of its argument, so PUBLIC may have it.
GRANT EXECUTE ON FUNCTION photofactory.is_valid_location(jsonb) TO PUBLIC;

