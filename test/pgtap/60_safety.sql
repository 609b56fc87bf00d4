-- Rules every object of the extension follows (issue #10): what pg_dump
-- keeps, pinned search_paths, which functions run as their owner, and the
-- settings and functions of the safety guards. The shape of each object is
-- pg_regress's (sql/01_schema.sql); docs/architecture.md, "Tests".
-- Behaviour is tested end to end (test/e2e/72_search_path.sh, 74_guards.sh,
-- test/restore/dump_restore.sh).
BEGIN;
SELECT plan(9);

SELECT set_eq(
    $$SELECT c::regclass::text FROM pg_extension e, unnest(e.extconfig) c WHERE e.extname = 'photofactory'$$,
    ARRAY['photofactory.media_assets', 'photofactory.asset_sidecars', 'photofactory.inbox_events',
          'photofactory.asset_integrity', 'photofactory.verification_runs', 'photofactory.system_status',
          'photofactory.system_status_history', 'photofactory.ingest_journal',
          'photofactory.inbox_events_id_seq', 'photofactory.verification_runs_id_seq',
          'photofactory.system_status_history_id_seq', 'photofactory.ingest_journal_id_seq',
          -- 0.2.0 services: backup bookkeeping, places, thumbnail retries
          'photofactory.backup_targets', 'photofactory.asset_copies', 'photofactory.asset_copies_id_seq',
          'photofactory.backup_events', 'photofactory.backup_events_id_seq',
          'photofactory.places', 'photofactory.places_dataset', 'photofactory.country_shapes',
          'photofactory.asset_places', 'photofactory.thumbnail_failures'],
    'pg_dump keeps every table holding user data, and their sequences');

SELECT is_empty(
    $$SELECT t.relname FROM pg_class t, pg_extension e
       WHERE e.extname = 'photofactory'
         AND t.relnamespace = 'photofactory'::regnamespace AND t.relkind IN ('r', 'S')
         AND NOT (t.oid = ANY (e.extconfig))
         -- process state, written anew by a restored server's librarians
         AND t.relname <> 'librarian_state'$$,
    'no table or sequence of the extension is left out of pg_dump');

SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
       WHERE p.pronamespace = 'photofactory'::regnamespace
         AND NOT coalesce(p.proconfig::text[] && ARRAY['search_path=pg_catalog, photofactory, pg_temp',
                                                       'search_path=pg_catalog, pg_temp'], false)
         AND p.prokind <> 'a'
         -- inlined into media_assets' CHECK by design, its body fully
         -- qualified instead (63_check_rules tests it with a hostile path)
         AND p.oid <> 'photofactory.is_valid_location(jsonb)'::regprocedure$$,
    'every function of the extension pins search_path with pg_catalog first (is_valid_location: see 63_check_rules)');

SELECT is((SELECT context FROM pg_settings WHERE name = 'photofactory.allow_drop_with_ledger'), 'superuser',
          'allow_drop_with_ledger can be set by a superuser only');
SELECT is((SELECT setting FROM pg_settings WHERE name = 'photofactory.allow_drop_with_ledger'), 'off',
          'allow_drop_with_ledger is off by default');
SELECT ok(has_function_privilege('photofactory_operator', 'photofactory.adopt_orphans()', 'EXECUTE')
          AND NOT has_function_privilege('photofactory_reader', 'photofactory.adopt_orphans()', 'EXECUTE'),
          'adopt_orphans is for operators');
SELECT ok(NOT has_function_privilege('photofactory_operator', 'photofactory._require_library_database(text)', 'EXECUTE'),
          'the internal database guard is granted to nobody');

SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
       WHERE p.pronamespace = 'photofactory'::regnamespace AND p.prosecdef
         AND p.proname NOT IN ('schedule_retention', 'unschedule_retention', 'verify_assets', 'start_verification',
                               'cancel_verification', 'reconcile', 'adopt_orphan', 'adopt_orphans', 'forget_service',
                               'thumbnail_path',
                               'add_backup_target', 'retire_backup_target', 'start_backup_scrub', 'backup_report',
                               'restore_original', 'restore_all')$$,
    'no other function is SECURITY DEFINER');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
       WHERE p.pronamespace = 'photofactory'::regnamespace AND p.proisstrict AND l.lanname IN ('sql', 'plpgsql')$$,
    'no SQL-level function is STRICT (NULL input raises instead)');

SELECT * FROM finish();
ROLLBACK;
