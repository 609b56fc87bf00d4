------------------------------------------------------------------------------
-- Last words of CREATE EXTENSION
------------------------------------------------------------------------------
-- In any database but photofactory.database the extension is inert (see
-- _require_library_database in 10_roles.sql): say so. Last, after the
-- retention warning of 40_status.sql, as an update from 0.1.0 prints them.
DO $library_database$
BEGIN
    IF pg_catalog.current_setting('photofactory.database', true) IS DISTINCT FROM
       pg_catalog.current_database()::pg_catalog.text THEN
        RAISE WARNING 'photofactory: this database is not photofactory.database; the library''s workers do not serve it'
            USING DETAIL = 'Functions that act on the inbox or storage (ingest_now, ingest_file, inbox_report, '
                           'verify_assets, start_verification, reconcile, adopt_orphan, adopt_orphans) raise an '
                           'error here.',
                  HINT = 'Create the extension in the database named by photofactory.database.';
    END IF;
END
$library_database$;
