-- Roles and privileges: PUBLIC gets nothing but the location validator,
-- photofactory_reader reads, photofactory_operator (a reader) works the queues.
BEGIN;
SELECT plan(280);

SELECT has_role('photofactory_reader');
SELECT has_role('photofactory_operator');
SELECT is_member_of('photofactory_reader', ARRAY['photofactory_operator'], 'operator is a member of reader');
SELECT ok(NOT rolcanlogin, format('%s is NOLOGIN', rolname))
  FROM pg_roles WHERE rolname IN ('photofactory_reader', 'photofactory_operator') ORDER BY rolname;
SELECT schema_privs_are('photofactory', r, ARRAY['USAGE'], format('%s may use the schema', r))
  FROM unnest(ARRAY['photofactory_reader', 'photofactory_operator']) AS r;
SELECT schema_privs_are('photofactory', 'public', ARRAY[]::text[], 'PUBLIC has no rights on the schema');

-- Functions: (name, argument types, PUBLIC, reader, operator)
CREATE TEMP TABLE expected_privs (f name, args text[], pub boolean, reader boolean, operator boolean);
INSERT INTO expected_privs VALUES
    ('recent_assets', ARRAY['integer'], false, true, true),
    ('assets_with_errors', ARRAY['integer'], false, true, true),
    ('is_valid_location', ARRAY['jsonb'], true, true, true),
    ('pending_geocoding', ARRAY['integer'], false, false, true),
    ('pending_thumbnails', ARRAY['integer'], false, false, true),
    ('pending_curation', ARRAY['integer'], false, false, true),
    ('pending_backup', ARRAY['integer'], false, false, true),
    ('mark_geocoded', ARRAY['uuid'], false, false, true),
    ('mark_geocoded', ARRAY['uuid[]'], false, false, true),
    ('mark_thumbnailed', ARRAY['uuid'], false, false, true),
    ('mark_thumbnailed', ARRAY['uuid[]'], false, false, true),
    ('mark_curated', ARRAY['uuid'], false, false, true),
    ('mark_curated', ARRAY['uuid[]'], false, false, true),
    ('mark_backed_up', ARRAY['uuid'], false, false, true),
    ('mark_backed_up', ARRAY['uuid[]'], false, false, true),
    ('record_error', ARRAY['uuid', 'text'], false, false, true),
    ('clear_error', ARRAY['uuid'], false, false, true),
    ('heartbeat', ARRAY['text', 'text', 'text'], false, false, true),
    ('cleanup_history', ARRAY['interval'], false, false, true),
    ('schedule_retention', ARRAY['text'], false, false, true),
    ('unschedule_retention', ARRAY[]::text[], false, false, true),
    ('inspect_file', ARRAY['text'], false, false, true);

SELECT function_privs_are('photofactory', f, args, 'public',
                          CASE WHEN pub THEN ARRAY['EXECUTE'] ELSE ARRAY[]::text[] END,
                          format('PUBLIC %s execute %s(%s)', CASE WHEN pub THEN 'may' ELSE 'may not' END,
                                 f, array_to_string(args, ', ')))
  FROM expected_privs ORDER BY f, args;
-- reader / operator: has_function_privilege, so membership counts.
SELECT is(has_function_privilege('photofactory_reader', format('photofactory.%s(%s)', f, array_to_string(args, ',')), 'EXECUTE'),
          reader, format('reader %s execute %s(%s)', CASE WHEN reader THEN 'may' ELSE 'may not' END,
                         f, array_to_string(args, ', ')))
  FROM expected_privs ORDER BY f, args;
SELECT is(has_function_privilege('photofactory_operator', format('photofactory.%s(%s)', f, array_to_string(args, ',')), 'EXECUTE'),
          operator, format('operator %s execute %s(%s)', CASE WHEN operator THEN 'may' ELSE 'may not' END,
                           f, array_to_string(args, ', ')))
  FROM expected_privs ORDER BY f, args;
SELECT is(count(*), 0::bigint, 'PUBLIC can execute no other function of the schema')
  FROM pg_proc p
 WHERE p.pronamespace = 'photofactory'::regnamespace AND p.proname <> 'is_valid_location'
   AND has_function_privilege('public', p.oid, 'EXECUTE');

-- Tables. pgTAP checks effective rights, so the operator's include the SELECT
-- it inherits as a member of reader.
SELECT table_privs_are('photofactory', t, 'public', ARRAY[]::text[], format('PUBLIC has no rights on %s', t))
  FROM unnest(ARRAY['media_assets', 'system_status', 'system_status_history', 'inbox_events', 'service_health']) AS t;
SELECT table_privs_are('photofactory', t, 'photofactory_reader', ARRAY['SELECT'], format('reader may SELECT %s', t))
  FROM unnest(ARRAY['media_assets', 'system_status', 'system_status_history', 'inbox_events', 'service_health']) AS t;
SELECT table_privs_are('photofactory', 'system_status', 'photofactory_operator', ARRAY['SELECT', 'INSERT', 'UPDATE'],
                       'operator may upsert system_status (heartbeat)');
SELECT table_privs_are('photofactory', 'system_status_history', 'photofactory_operator', ARRAY['SELECT', 'INSERT', 'DELETE'],
                       'operator may append to and trim system_status_history');
SELECT table_privs_are('photofactory', t, 'photofactory_operator', ARRAY['SELECT'],
                       format('operator may only SELECT %s (table-wide)', t))
  FROM unnest(ARRAY['media_assets', 'inbox_events', 'service_health']) AS t;
SELECT column_privs_are('photofactory', 'media_assets', c, 'photofactory_operator', ARRAY['SELECT', 'UPDATE'],
                        format('operator may UPDATE media_assets.%s', c))
  FROM unnest(ARRAY['is_geocoded', 'is_thumbnailed', 'is_curated', 'is_backed_up', 'has_errors', 'error_message']) AS c;
SELECT is(has_column_privilege('photofactory_operator', 'photofactory.media_assets', c, 'UPDATE'), false,
          format('operator may not UPDATE media_assets.%s', c))
  FROM unnest(ARRAY['id', 'file_hash', 'final_path', 'location', 'captured_at', 'geocoded_at']) AS c;
SELECT is(has_table_privilege('photofactory_operator', 'photofactory.media_assets', p), false,
          format('operator may not %s media_assets', p))
  FROM unnest(ARRAY['INSERT', 'DELETE', 'TRUNCATE']) AS p;

-- Filesystem: every function that reads, hashes, lists or moves files is out
-- of reach of PUBLIC, of readers and of any role not made an operator; the
-- internal ones are not even for operators. (SQL-callable C functions and
-- SECURITY DEFINER wrappers are where files get touched.)
CREATE ROLE pf_tap_stranger NOLOGIN;
CREATE ROLE pf_tap_viewer NOLOGIN IN ROLE photofactory_reader;
CREATE ROLE pf_tap_operator NOLOGIN IN ROLE photofactory_operator;
CREATE TEMP TABLE fs_funcs (sig regprocedure, internal boolean);
INSERT INTO fs_funcs VALUES
    ('photofactory.inspect_file(text)', false),
    ('photofactory.ingest_file(text)', false),
    ('photofactory._ingest_file_json(text)', false),
    ('photofactory.ingest_now()', false),
    ('photofactory.inbox_report()', false),
    ('photofactory._inbox_report_json()', false),
    ('photofactory.verify_assets(integer, timestamptz, double precision)', false),
    ('photofactory.start_verification(timestamptz, double precision)', false),
    ('photofactory.cancel_verification(bigint)', false),
    ('photofactory.reconcile()', false),
    ('photofactory.adopt_orphan(text)', false),
    ('photofactory.adopt_orphans()', false),
    ('photofactory._require_library_database(text)', true),
    ('photofactory._hash_stored_file(text)', true),
    ('photofactory._list_originals()', true),
    ('photofactory._verify_batch(integer, timestamptz, timestamptz, double precision, bigint)', true),
    ('photofactory._verification_step(integer)', true),
    ('photofactory._verify_ids(uuid[])', true),
    ('photofactory._journal_finish_many(bigint[], text[])', true),
    ('photofactory._journal_finish(bigint, text)', true),
    -- backup (0.2.0)
    ('photofactory.add_backup_target(text, text)', false),
    ('photofactory.retire_backup_target(text)', false),
    ('photofactory.restore_original(uuid)', false),
    ('photofactory.restore_all(text)', false),
    ('photofactory._backup_prepare_target(text, uuid, text)', true),
    ('photofactory._backup_restore_file(text, uuid, text, text, text)', true),
    ('photofactory._backup_claim(uuid[], integer)', true),
    ('photofactory._backup_scrub_result(bigint, text, text)', true),
    ('photofactory._hash_under_root(text, text)', true),
    ('photofactory._list_thumbnails()', true),
    ('photofactory._thumbnail_done(uuid)', true),
    ('photofactory._thumbnail_failed(uuid, text, integer)', true),
    ('photofactory.thumbnail_path(uuid, text)', false),
    ('photofactory.rethumbnail(uuid)', false),
    ('photofactory.rethumbnail_all()', false);
GRANT SELECT ON fs_funcs TO PUBLIC;
SELECT ok(NOT has_function_privilege(r, sig, 'EXECUTE'), format('%s may not execute %s', r, sig))
  FROM fs_funcs, unnest(ARRAY['public', 'pf_tap_stranger', 'pf_tap_viewer']) AS r ORDER BY sig::text, r;
SELECT ok(NOT has_function_privilege('pf_tap_operator', sig, 'EXECUTE'), format('not even an operator may execute %s', sig))
  FROM fs_funcs WHERE internal ORDER BY sig::text;
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY 1), NULL,
          'every SQL-callable C function of the schema is in the list above')
  FROM pg_proc p
 WHERE p.pronamespace = 'photofactory'::regnamespace AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')
   AND p.oid NOT IN (SELECT sig FROM fs_funcs);
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY 1), NULL,
          'no C or SECURITY DEFINER function is executable by a non-operator')
  FROM pg_proc p
 WHERE p.pronamespace = 'photofactory'::regnamespace
   AND (p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c') OR p.prosecdef)
   AND (has_function_privilege('pf_tap_stranger', p.oid, 'EXECUTE') OR has_function_privilege('pf_tap_viewer', p.oid, 'EXECUTE'));
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY 1), NULL,
          'every SECURITY DEFINER function pins its search_path')
  FROM pg_proc p
 WHERE p.pronamespace = 'photofactory'::regnamespace AND p.prosecdef
   AND NOT coalesce(p.proconfig::text LIKE '%search_path=%', false);

-- Actually calling them: refused before any file is touched.
SET LOCAL ROLE pf_tap_stranger;
SELECT throws_ok($$SELECT photofactory.inspect_file('/etc/passwd')$$, '42501', NULL,
                 'a role without grants cannot reach the schema (inspect_file)');
RESET ROLE;
SET LOCAL ROLE pf_tap_viewer;
SELECT throws_ok(format('SELECT %s(%s)', sig::oid::regproc,
                        (SELECT string_agg(CASE t WHEN 'text'::regtype THEN quote_literal('/etc/passwd') ELSE 'NULL' END || '::' || t::regtype, ', ')
                           FROM unnest(p.proargtypes::oid[]) AS t)),
                 '42501', NULL, format('a reader calling %s: permission denied', sig))
  FROM fs_funcs f JOIN pg_proc p ON p.oid = f.sig ORDER BY sig::text;
RESET ROLE;

-- Settings that name paths or the database: hidden from and unchangeable by
-- everyone but superusers (operators included).
SET LOCAL ROLE pf_tap_operator;
SELECT throws_ok(format('SHOW %s', g), '42501', NULL, format('%s is hidden from an operator (SHOW)', g))
  FROM unnest(ARRAY['photofactory.database', 'photofactory.inbox_dir', 'photofactory.storage_dir']) AS g;
SELECT throws_ok(format('SELECT current_setting(%L)', g), '42501', NULL, format('%s is hidden (current_setting)', g))
  FROM unnest(ARRAY['photofactory.database', 'photofactory.inbox_dir', 'photofactory.storage_dir']) AS g;
SELECT is((SELECT count(*) FROM pg_settings WHERE name IN ('photofactory.database', 'photofactory.inbox_dir', 'photofactory.storage_dir')),
          0::bigint, 'path settings are not listed in pg_settings');
SELECT throws_ok(format('SELECT set_config(%L, %L, false)', g, '/tmp'), NULL, NULL, format('set_config(%s) refused', g))
  FROM unnest(ARRAY['photofactory.inbox_dir', 'photofactory.storage_dir']) AS g;
SELECT throws_ok(format('ALTER ROLE pf_tap_operator SET %s = %L', g, '/tmp'), NULL, NULL, format('ALTER ROLE ... SET %s refused', g))
  FROM unnest(ARRAY['photofactory.inbox_dir', 'photofactory.storage_dir']) AS g;
SELECT throws_ok(format('ALTER DATABASE %I SET photofactory.inbox_dir = %L', current_database(), '/tmp'), '42501', NULL,
                 'ALTER DATABASE ... SET inbox_dir refused');
SELECT throws_ok($$ALTER SYSTEM SET photofactory.storage_dir = '/tmp'$$, NULL, NULL, 'ALTER SYSTEM refused');
-- Nor around the SQL surface: no C function of one's own, no LOAD.
SELECT throws_ok($$CREATE FUNCTION pg_temp.peek(text) RETURNS jsonb AS '$libdir/photofactory', 'pf_inspect_file' LANGUAGE c$$,
                 '42501', NULL, 'cannot wrap the library''s C functions in a function of one''s own');
SELECT throws_ok($$LOAD 'photofactory'$$, '42501', NULL, 'cannot LOAD the library');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
