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
CREATE FUNCTION photofactory.is_valid_location(loc jsonb)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, photofactory, pg_temp
AS $fn$
    SELECT CASE
        WHEN loc IS NULL OR jsonb_typeof(loc) <> 'object' THEN false
        WHEN (loc - 'lat' - 'lon') <> '{}'::jsonb THEN false
        WHEN jsonb_typeof(loc -> 'lat') IS DISTINCT FROM 'number'
          OR jsonb_typeof(loc -> 'lon') IS DISTINCT FROM 'number' THEN false
        ELSE (loc -> 'lat')::numeric BETWEEN -90 AND 90
         AND (loc -> 'lon')::numeric BETWEEN -180 AND 180
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

