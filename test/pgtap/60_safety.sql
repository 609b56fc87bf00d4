-- Issue #10 (0.2.0): what pg_dump keeps, pinned search_paths, and the
-- settings and functions of the safety guards. Behaviour is tested end to end
-- (test/e2e/72_search_path.sh, 74_guards.sh, test/restore/dump_restore.sh).
BEGIN;
SELECT plan(7);

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
         AND p.prokind <> 'a'$$,
    'every function of the extension pins search_path with pg_catalog first');

SELECT is((SELECT context FROM pg_settings WHERE name = 'photofactory.allow_drop_with_ledger'), 'superuser',
          'allow_drop_with_ledger can be set by a superuser only');
SELECT is((SELECT setting FROM pg_settings WHERE name = 'photofactory.allow_drop_with_ledger'), 'off',
          'allow_drop_with_ledger is off by default');
SELECT ok(has_function_privilege('photofactory_operator', 'photofactory.adopt_orphans()', 'EXECUTE')
          AND NOT has_function_privilege('photofactory_reader', 'photofactory.adopt_orphans()', 'EXECUTE'),
          'adopt_orphans is for operators');
SELECT ok(NOT has_function_privilege('photofactory_operator', 'photofactory._require_library_database(text)', 'EXECUTE'),
          'the internal database guard is granted to nobody');

SELECT * FROM finish();
ROLLBACK;
