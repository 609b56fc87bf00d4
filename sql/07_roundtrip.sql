-- DROP EXTENSION / CREATE EXTENSION round trip: the extension drops cleanly,
-- leaves the cluster-wide roles, and comes back (with the warning that
-- retention is not scheduled, since pg_cron is not installed here).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS photofactory;
INSERT INTO photofactory.system_status (service_name) VALUES ('roundtrip');

DROP EXTENSION photofactory;
SELECT count(*) AS objects_left
  FROM pg_class WHERE relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'photofactory');
SELECT count(*) AS functions_left
  FROM pg_proc WHERE pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'photofactory');
SELECT rolname FROM pg_roles WHERE rolname LIKE 'photofactory\_%' ORDER BY rolname;

\set SHOW_CONTEXT never
CREATE EXTENSION photofactory;
SELECT extname, extversion, extnamespace::regnamespace FROM pg_extension WHERE extname = 'photofactory';
SELECT count(*) AS status_rows FROM photofactory.system_status;
SELECT pg_has_role('photofactory_operator', 'photofactory_reader', 'MEMBER') AS operator_is_reader;

-- Again: the same script runs on top of the roles and the (empty) schema
-- that the previous DROP EXTENSION left behind.
DROP EXTENSION photofactory;
SELECT nspname AS schema_left FROM pg_namespace WHERE nspname = 'photofactory';
CREATE EXTENSION photofactory;
SELECT has_function_privilege('photofactory_operator', 'photofactory.mark_geocoded(uuid)', 'EXECUTE') AS operator_can_mark,
       has_table_privilege('photofactory_reader', 'photofactory.media_assets', 'SELECT') AS reader_can_select;
SELECT service_name, status FROM photofactory.heartbeat('roundtrip');
DELETE FROM photofactory.system_status;
DELETE FROM photofactory.system_status_history;
