-- Roles and privileges: what PUBLIC, photofactory_reader and
-- photofactory_operator may do, shown with catalog queries and by acting as a
-- throwaway login role.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS photofactory;
RESET client_min_messages;
\set VERBOSITY terse

SELECT rolname, rolcanlogin, rolsuper, rolinherit
  FROM pg_roles WHERE rolname LIKE 'photofactory\_%' ORDER BY rolname;
SELECT pg_has_role('photofactory_operator', 'photofactory_reader', 'MEMBER') AS operator_is_reader,
       pg_has_role('photofactory_reader', 'photofactory_operator', 'MEMBER') AS reader_is_operator;

-- EXECUTE per function for PUBLIC (explicit or default ACL), reader, operator.
SELECT p.oid::regprocedure AS function,
       EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
                WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') AS public,
       has_function_privilege('photofactory_reader', p.oid, 'EXECUTE') AS reader,
       has_function_privilege('photofactory_operator', p.oid, 'EXECUTE') AS operator,
       p.prosecdef AS security_definer
  FROM pg_proc p
 WHERE p.pronamespace = 'photofactory'::regnamespace AND p.prokind = 'f'
   AND p.prorettype <> 'trigger'::regtype
 ORDER BY p.oid::regprocedure::text;
-- Trigger functions are not callable by anyone but the owner (triggers fire
-- regardless of EXECUTE rights).
SELECT p.oid::regprocedure AS trigger_function,
       has_function_privilege('photofactory_operator', p.oid, 'EXECUTE') AS operator
  FROM pg_proc p
 WHERE p.pronamespace = 'photofactory'::regnamespace AND p.prorettype = 'trigger'::regtype
 ORDER BY p.oid::regprocedure::text;

-- Table privileges.
SELECT c.relname, r.rolname,
       array_to_string(ARRAY(SELECT priv FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) AS priv
                              WHERE has_table_privilege(r.rolname, c.oid, priv)), ',') AS table_privileges
  FROM pg_class c
 CROSS JOIN (VALUES ('photofactory_reader'), ('photofactory_operator')) AS r(rolname)
 WHERE c.relnamespace = 'photofactory'::regnamespace AND c.relkind IN ('r', 'v')
 ORDER BY c.relname, r.rolname;
-- Column-level UPDATE of the operator on media_assets: the flags and errors only.
SELECT a.attname
  FROM pg_attribute a
 WHERE a.attrelid = 'photofactory.media_assets'::regclass AND a.attnum > 0
   AND has_column_privilege('photofactory_operator', a.attrelid, a.attnum, 'UPDATE')
 ORDER BY a.attnum;
SELECT has_schema_privilege('photofactory_reader', 'photofactory', 'USAGE') AS reader_usage,
       has_schema_privilege('photofactory_operator', 'photofactory', 'USAGE') AS operator_usage,
       has_schema_privilege('photofactory_operator', 'photofactory', 'CREATE') AS operator_create;

-- Acting as a login role with no grants, then as reader, then as operator.
TRUNCATE photofactory.media_assets;
INSERT INTO photofactory.media_assets (id, file_hash, original_name, original_path, final_path, size_bytes, location)
VALUES ('00000000-0000-0000-0000-0000000000b1', repeat('b', 64), 'b1.jpg', '/i/b1.jpg', '/s/b1.jpg', 1,
        '{"lat": 1, "lon": 1}');
CREATE ROLE regress_pf_user LOGIN;

-- PUBLIC has no USAGE on the schema: nothing in it is reachable.
SET ROLE regress_pf_user;
SELECT photofactory.inspect_file('/etc/hostname');
SELECT count(*) FROM photofactory.media_assets;
RESET ROLE;
-- Even with USAGE on the schema, PUBLIC may call no function but the
-- location validator, and read no table.
GRANT USAGE ON SCHEMA photofactory TO regress_pf_user;
SET ROLE regress_pf_user;
SELECT photofactory.inspect_file('/etc/hostname');
SELECT * FROM photofactory.pending_geocoding();
SELECT photofactory.mark_geocoded('00000000-0000-0000-0000-0000000000b1'::uuid);
SELECT photofactory.heartbeat('intruder');
SELECT photofactory.cleanup_history();
SELECT photofactory.schedule_retention();
SELECT photofactory.recent_assets();
SELECT count(*) FROM photofactory.media_assets;
SELECT count(*) FROM photofactory.service_health;
SELECT photofactory.is_valid_location('{"lat": 0, "lon": 0}') AS anyone_may_validate;
RESET ROLE;
REVOKE USAGE ON SCHEMA photofactory FROM regress_pf_user;

GRANT photofactory_reader TO regress_pf_user;
SET ROLE regress_pf_user;
SELECT original_name FROM photofactory.recent_assets();
SELECT count(*) FROM photofactory.assets_with_errors();
SELECT count(*) FROM photofactory.media_assets;
SELECT count(*) FROM photofactory.service_health;
SELECT count(*) FROM photofactory.inbox_events;
SELECT count(*) FROM photofactory.system_status_history;
SELECT * FROM photofactory.pending_geocoding();
SELECT photofactory.mark_geocoded('00000000-0000-0000-0000-0000000000b1'::uuid);
SELECT photofactory.heartbeat('reader');
SELECT photofactory.inspect_file('/etc/hostname');
UPDATE photofactory.media_assets SET is_geocoded = true;
RESET ROLE;

GRANT photofactory_operator TO regress_pf_user;
SET ROLE regress_pf_user;
BEGIN;
SELECT original_name FROM photofactory.pending_geocoding();
SELECT photofactory.mark_geocoded('00000000-0000-0000-0000-0000000000b1'::uuid) AS geocoded,
       photofactory.mark_thumbnailed(ARRAY['00000000-0000-0000-0000-0000000000b1']::uuid[]) AS thumbnailed;
COMMIT;
SELECT photofactory.record_error('00000000-0000-0000-0000-0000000000b1', 'backup: target offline');
SELECT photofactory.clear_error('00000000-0000-0000-0000-0000000000b1');
SELECT service_name, status FROM photofactory.heartbeat('regress-operator', 'ok');
SELECT photofactory.cleanup_history('1 day');
-- Plain UPDATE of a flag is allowed (the trigger fills the timestamp) ...
UPDATE photofactory.media_assets SET is_curated = true WHERE id = '00000000-0000-0000-0000-0000000000b1';
-- ... but not of anything else, nor INSERT/DELETE of assets or history edits.
UPDATE photofactory.media_assets SET final_path = '/elsewhere';
UPDATE photofactory.media_assets SET location = NULL;
INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes)
VALUES (repeat('c', 64), 'c', '/c', '/c', 1);
DELETE FROM photofactory.media_assets;
UPDATE photofactory.system_status_history SET status = 'OK';
INSERT INTO photofactory.inbox_events (outcome, original_name, original_path) VALUES ('rejected', 'x', '/x');
RESET ROLE;
SELECT is_geocoded, is_thumbnailed, is_curated, curated_at IS NOT NULL AS curated_at_set, has_errors
  FROM photofactory.media_assets;

DROP ROLE regress_pf_user;
DELETE FROM photofactory.system_status;
DELETE FROM photofactory.system_status_history;
TRUNCATE photofactory.media_assets;
