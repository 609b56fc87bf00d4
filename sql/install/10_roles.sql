------------------------------------------------------------------------------
-- Roles
------------------------------------------------------------------------------
-- Roles are cluster-wide and are not members of the extension: DROP EXTENSION
-- leaves them (and their memberships) in place, so create them only if missing
-- and a second CREATE EXTENSION must not fail. NOLOGIN: they are groups that
-- login roles are granted into.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'photofactory_reader') THEN
        CREATE ROLE photofactory_reader NOLOGIN;
        COMMENT ON ROLE photofactory_reader IS
            'photofactory: read the media ledger, inbox audit and service health';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'photofactory_operator') THEN
        CREATE ROLE photofactory_operator NOLOGIN;
        COMMENT ON ROLE photofactory_operator IS
            'photofactory: downstream workers and services (claim and mark assets, heartbeats, inspect files)';
    END IF;
    -- GRANT would only emit a NOTICE when the membership exists; keep CREATE
    -- EXTENSION quiet on re-creation.
    IF NOT pg_catalog.pg_has_role('photofactory_operator', 'photofactory_reader', 'MEMBER') THEN
        GRANT photofactory_reader TO photofactory_operator;
    END IF;
END
$roles$;

------------------------------------------------------------------------------
-- Validators used by CHECK constraints
------------------------------------------------------------------------------
-- A location is exactly {"lat": <number>, "lon": <number>} within WGS84 ranges.
-- The CASE fixes the evaluation order: the numeric casts only run once both
-- values are known to be JSON numbers, so a bad shape yields false, not a cast
-- error. Returns false (not NULL) for SQL NULL; the CHECK allows NULL itself.
--
-- The one function of the extension without a pinned search_path, on purpose:
-- media_assets' CHECK re-runs it on every INSERT and every UPDATE of a row (each
-- service's mark), and a function with SET is never inlined -- each call paid a
-- GUC save and restore, 12 % of the geocoder's CPU. Without SET the planner
-- inlines the body into the CHECK. Inlining parses the body under the caller's
-- search_path, so nothing in it is looked up there: every function, operator
-- and type is written with its schema (no BETWEEN, IS DISTINCT FROM or
-- unqualified casts, which resolve operators by search_path). pgTAP
-- 60_safety proves both: it is inlined, and a hostile search_path that shadows
-- every name in it changes no answer.
CREATE FUNCTION photofactory.is_valid_location(loc jsonb)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT CASE
        WHEN loc IS NULL
          OR pg_catalog.jsonb_typeof(loc) OPERATOR(pg_catalog.<>) 'object'::pg_catalog.text THEN false
        WHEN ((loc OPERATOR(pg_catalog.-) 'lat'::pg_catalog.text) OPERATOR(pg_catalog.-) 'lon'::pg_catalog.text)
             OPERATOR(pg_catalog.<>) '{}'::pg_catalog.jsonb THEN false
        WHEN pg_catalog.jsonb_typeof(loc OPERATOR(pg_catalog.->) 'lat'::pg_catalog.text) IS NULL
          OR pg_catalog.jsonb_typeof(loc OPERATOR(pg_catalog.->) 'lat'::pg_catalog.text)
             OPERATOR(pg_catalog.<>) 'number'::pg_catalog.text
          OR pg_catalog.jsonb_typeof(loc OPERATOR(pg_catalog.->) 'lon'::pg_catalog.text) IS NULL
          OR pg_catalog.jsonb_typeof(loc OPERATOR(pg_catalog.->) 'lon'::pg_catalog.text)
             OPERATOR(pg_catalog.<>) 'number'::pg_catalog.text THEN false
        ELSE pg_catalog.numeric_ge(pg_catalog."numeric"(loc OPERATOR(pg_catalog.->) 'lat'::pg_catalog.text), '-90'::pg_catalog.numeric)
         AND pg_catalog.numeric_le(pg_catalog."numeric"(loc OPERATOR(pg_catalog.->) 'lat'::pg_catalog.text), '90'::pg_catalog.numeric)
         AND pg_catalog.numeric_ge(pg_catalog."numeric"(loc OPERATOR(pg_catalog.->) 'lon'::pg_catalog.text), '-180'::pg_catalog.numeric)
         AND pg_catalog.numeric_le(pg_catalog."numeric"(loc OPERATOR(pg_catalog.->) 'lon'::pg_catalog.text), '180'::pg_catalog.numeric)
    END
$fn$;
COMMENT ON FUNCTION photofactory.is_valid_location(jsonb) IS
    'true when the value is exactly {"lat": number, "lon": number} with lat in [-90,90] and lon in [-180,180]';


------------------------------------------------------------------------------
-- One library, one database
------------------------------------------------------------------------------
-- The workers keep the ledger of the inbox and
-- storage in the database named by photofactory.database; the extension in
-- any other database must not act on that library (a second ledger of the
-- same files). CREATE EXTENSION there warns (95_warnings.sql); every function that touches the
-- library raises 55000 there (the C functions check for themselves; the SQL
-- ones call this guard first).
CREATE FUNCTION photofactory._require_library_database(what text)
RETURNS void
AS 'MODULE_PATHNAME', 'pf_require_library_database'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION photofactory._require_library_database(text) IS
    'Internal (C): raises 55000 naming what was called when this database is not photofactory.database';

