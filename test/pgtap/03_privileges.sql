-- Roles and privileges: PUBLIC gets nothing but the location validator,
-- photofactory_reader reads, photofactory_operator (a reader) works the queues.
BEGIN;
SELECT plan(105);

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

SELECT * FROM finish();
ROLLBACK;
