-- Section 4a-iii of the 0.2.0 update script: media_assets' CHECKs keep their
-- rules in cheaper forms (every UPDATE of a row re-checks all of them).
--   * file_hash and time_zone are checked without regular expressions: the
--     installed constraints accept exactly what the old regexes accepted;
--   * is_valid_location() has no SET search_path so the planner inlines it;
--     its body names the schema of everything, so a hostile search_path that
--     shadows every function and operator it uses changes no answer, and
--     cannot let a bad location into the ledger.
BEGIN;
SELECT plan(8);

-- Whether an INSERT with these values passes the CHECKs; nothing is kept.
CREATE FUNCTION pg_temp.accepts(tz text, hash text, loc jsonb) RETURNS boolean
LANGUAGE plpgsql AS $fn$
BEGIN
    BEGIN
        INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes,
                                               time_zone, location)
        VALUES (hash, 'x.jpg', '/i/x.jpg', '/s/x.jpg', 1, tz, loc);
        RAISE EXCEPTION 'accepted' USING ERRCODE = 'PFT01';
    EXCEPTION
        WHEN check_violation THEN RETURN false;
        WHEN SQLSTATE 'PFT01' THEN RETURN true;
    END;
END
$fn$;

CREATE TEMP TABLE zones (v text);
INSERT INTO zones VALUES ('file'), ('paired'), ('gps:Europe/Berlin'), ('default:UTC'), ('paired:gps:Asia/Tokyo'),
    ('paired:x'), ('gps:'), ('default:'), ('paired:'), ('File'), ('file '), (' file'), ('filex'), ('xfile'),
    ('gps'), ('gpsx:UTC'), (''), (E'gps:\n'), (E'file\n'), (E'gps:\nx'), ('gps:%'), ('gps:_'), ('default:é'),
    ('utc'), ('paired:paired:'), ('GPS:UTC');
SELECT is_empty(
    $$SELECT v FROM zones
       WHERE pg_temp.accepts(v, repeat('a', 64), NULL)
             IS DISTINCT FROM (v ~ '^(file|paired|(gps|default|paired):.+)$')$$,
    'time_zone: the CHECK accepts exactly what ~ ''^(file|paired|(gps|default|paired):.+)$'' accepts');

CREATE TEMP TABLE hashes (v text);
INSERT INTO hashes VALUES (repeat('a', 64)), (repeat('0123456789abcdef', 4)), (repeat('A', 64)), (repeat('a', 63)),
    (repeat('g', 64)), (repeat('a', 63) || E'\n'), (repeat('a', 63) || ' '), (' ' || repeat('a', 63)),
    (repeat('a', 63) || 'é'), (repeat('a', 62) || '-1'), (''), (repeat('f', 64));
SELECT is_empty(
    $$SELECT v FROM hashes
       WHERE pg_temp.accepts(NULL, v, NULL) IS DISTINCT FROM (v ~ '^[0-9a-f]{64}$')$$,
    'file_hash: the CHECK accepts exactly what ~ ''^[0-9a-f]{64}$'' accepts');

SELECT is((SELECT proconfig FROM pg_proc WHERE oid = 'photofactory.is_valid_location(jsonb)'::regprocedure), NULL,
          'is_valid_location sets nothing (a function with SET is never inlined)');

CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
    line text;
    result text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
        result := result || line || E'\n';
    END LOOP;
    RETURN result;
END
$fn$;
SELECT unalike(pg_temp.plan_of('SELECT photofactory.is_valid_location(a.location) FROM photofactory.media_assets a'),
               '%is_valid_location%', 'the planner inlines is_valid_location (no call left in the plan)');

-- Expected answers, under the normal search_path.
CREATE TEMP TABLE locations (v jsonb, valid boolean);
INSERT INTO locations VALUES ('{"lat": 0, "lon": 0}', true), ('{"lat": -90, "lon": 180}', true),
    ('{"lat": 90.0001, "lon": 0}', false), ('{"lat": 0, "lon": -180.5}', false), ('{"lat": "1", "lon": 2}', false),
    ('{"lat": 1}', false), ('{}', false), ('{"lat": 1, "lon": 2, "alt": 3}', false), ('[1, 2]', false),
    ('{"lat": null, "lon": 2}', false), ('{"lat": 1e400, "lon": 0}', false), ('{"lat": 48.85, "lon": 2.35}', true);
SELECT is_empty($$SELECT v FROM locations WHERE photofactory.is_valid_location(v) IS DISTINCT FROM valid$$,
                'is_valid_location answers as documented');

-- A schema that shadows every name the body uses, first on the search_path.
CREATE SCHEMA pf_tap_evil;
CREATE FUNCTION pf_tap_evil.jsonb_typeof(jsonb) RETURNS text LANGUAGE sql AS $$SELECT 'number'::pg_catalog.text$$;
CREATE FUNCTION pf_tap_evil.numeric_ge(numeric, numeric) RETURNS boolean LANGUAGE sql AS $$SELECT true$$;
CREATE FUNCTION pf_tap_evil.numeric_le(numeric, numeric) RETURNS boolean LANGUAGE sql AS $$SELECT true$$;
CREATE FUNCTION pf_tap_evil.numeric(jsonb) RETURNS numeric LANGUAGE sql AS $$SELECT 0::pg_catalog.numeric$$;
CREATE FUNCTION pf_tap_evil.never(text, text) RETURNS boolean LANGUAGE sql AS $$SELECT false$$;
CREATE FUNCTION pf_tap_evil.nothing(jsonb, text) RETURNS jsonb LANGUAGE sql AS $$SELECT '{}'::pg_catalog.jsonb$$;
CREATE FUNCTION pf_tap_evil.zero(jsonb, text) RETURNS jsonb LANGUAGE sql AS $$SELECT '0'::pg_catalog.jsonb$$;
CREATE FUNCTION pf_tap_evil.never_j(jsonb, jsonb) RETURNS boolean LANGUAGE sql AS $$SELECT false$$;
CREATE FUNCTION pf_tap_evil.always_n(numeric, numeric) RETURNS boolean LANGUAGE sql AS $$SELECT true$$;
CREATE FUNCTION pf_tap_evil.neg(numeric) RETURNS numeric LANGUAGE sql AS $$SELECT 0::pg_catalog.numeric$$;
CREATE OPERATOR pf_tap_evil.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = pf_tap_evil.never);
CREATE OPERATOR pf_tap_evil.<> (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = pf_tap_evil.never_j);
CREATE OPERATOR pf_tap_evil.- (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = pf_tap_evil.nothing);
CREATE OPERATOR pf_tap_evil.-> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = pf_tap_evil.zero);
CREATE OPERATOR pf_tap_evil.>= (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = pf_tap_evil.always_n);
CREATE OPERATOR pf_tap_evil.<= (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = pf_tap_evil.always_n);
CREATE OPERATOR pf_tap_evil.- (RIGHTARG = numeric, FUNCTION = pf_tap_evil.neg);
SET LOCAL search_path = pf_tap_evil, pg_catalog, public;

SELECT is_empty($$SELECT v FROM pg_temp.locations WHERE photofactory.is_valid_location(v) IS DISTINCT FROM valid$$,
                'a search_path that shadows every function and operator changes no answer of is_valid_location');
SELECT is(pg_temp.accepts(NULL, pg_catalog.repeat('a', 64), '{"lat": 91, "lon": 0}'), false,
          '... and the CHECK still refuses an out-of-range location under it');
SELECT is(pg_temp.accepts(NULL, pg_catalog.repeat('a', 64), '{"lat": 45, "lon": 5}'), true,
          '... and still accepts a good one');

SELECT * FROM finish();
ROLLBACK;
