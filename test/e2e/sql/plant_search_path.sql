-- Run as a non-superuser owner of the database (who has CREATE on public in
-- PostgreSQL 15): plants, in public, an object for every function, operator,
-- type and table the workers' SQL names, each one recording that it ran (in
-- the server log and in public.pf_planted_log) and then doing the real work.
-- With the database's search_path set to "public, pg_catalog", unpinned worker
-- SQL would resolve to these and run them as the bootstrap superuser.
CREATE TABLE public.pf_planted_log (
    what    pg_catalog.text,
    backend pg_catalog.text,
    is_super pg_catalog.bool,
    at      pg_catalog.timestamptz DEFAULT pg_catalog.clock_timestamp()
);
GRANT ALL ON public.pf_planted_log TO PUBLIC;

CREATE FUNCTION public.pf_planted(what pg_catalog.text) RETURNS pg_catalog.bool
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE b pg_catalog.text;
BEGIN
    SELECT a.backend_type INTO b FROM pg_catalog.pg_stat_activity a
     WHERE a.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid();
    RAISE LOG 'pf-planted % ran in %', what, b;
    INSERT INTO public.pf_planted_log (what, backend, is_super)
    SELECT what, b, r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER;
    RETURN true;
END $$;

-- Functions (the int4 literal of hashtextextended(h, 0) made this one an exact match).
CREATE FUNCTION public.hashtextextended(pg_catalog.text, pg_catalog.int4) RETURNS pg_catalog.int8
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.pf_planted('hashtextextended(text,int4)'); RETURN pg_catalog.hashtextextended($1, $2::pg_catalog.int8); END $$;
CREATE FUNCTION public.hashtextextended(pg_catalog.text, pg_catalog.int8) RETURNS pg_catalog.int8
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.pf_planted('hashtextextended(text,int8)'); RETURN pg_catalog.hashtextextended($1, $2); END $$;
CREATE FUNCTION public.unnest(pg_catalog.text[]) RETURNS SETOF pg_catalog.text
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.pf_planted('unnest(text[])'); RETURN QUERY SELECT pg_catalog.unnest($1); END $$;
CREATE FUNCTION public.unnest(pg_catalog.bytea[]) RETURNS SETOF pg_catalog.bytea
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.pf_planted('unnest(bytea[])'); RETURN QUERY SELECT pg_catalog.unnest($1); END $$;
CREATE FUNCTION public.unnest(pg_catalog.int4[]) RETURNS SETOF pg_catalog.int4
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.pf_planted('unnest(int4[])'); RETURN QUERY SELECT pg_catalog.unnest($1); END $$;
CREATE FUNCTION public.to_char(pg_catalog.timestamptz, pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.pf_planted('to_char'); RETURN pg_catalog.to_char($1, $2); END $$;
CREATE FUNCTION public.now() RETURNS pg_catalog.timestamptz
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.pf_planted('now()'); RETURN pg_catalog.now(); END $$;
CREATE FUNCTION public.pg_advisory_xact_lock(pg_catalog.int8) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.pf_planted('pg_advisory_xact_lock'); PERFORM pg_catalog.pg_advisory_xact_lock($1); END $$;
CREATE FUNCTION public.pg_try_advisory_lock(pg_catalog.int4, pg_catalog.int4) RETURNS pg_catalog.bool
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.pf_planted('pg_try_advisory_lock'); RETURN pg_catalog.pg_try_advisory_lock($1, $2); END $$;
CREATE FUNCTION public.pg_advisory_unlock(pg_catalog.int4, pg_catalog.int4) RETURNS pg_catalog.bool
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.pf_planted('pg_advisory_unlock'); RETURN pg_catalog.pg_advisory_unlock($1, $2); END $$;
CREATE FUNCTION public.pg_try_advisory_xact_lock_shared(pg_catalog.int4, pg_catalog.int4) RETURNS pg_catalog.bool
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.pf_planted('pg_try_advisory_xact_lock_shared'); RETURN pg_catalog.pg_try_advisory_xact_lock_shared($1, $2); END $$;
CREATE FUNCTION public.pg_database_size(pg_catalog.name) RETURNS pg_catalog.int8
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.pf_planted('pg_database_size'); RETURN pg_catalog.pg_database_size($1); END $$;
CREATE FUNCTION public.current_database() RETURNS pg_catalog.name
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.pf_planted('current_database'); RETURN pg_catalog.current_database(); END $$;
CREATE FUNCTION public.pf_count_step(pg_catalog.int8) RETURNS pg_catalog.int8
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.pf_planted('count(*)'); RETURN $1 OPERATOR(pg_catalog.+) 1::pg_catalog.int8; END $$;
CREATE AGGREGATE public.count(*) (SFUNC = public.pf_count_step, STYPE = pg_catalog.int8, INITCOND = '0');

-- A table the health query reads.
CREATE VIEW public.pg_class AS
    SELECT c.* FROM pg_catalog.pg_class c WHERE public.pf_planted('table pg_class');

-- Operators, for the operand types the workers compare.
CREATE FUNCTION public.pf_op(what pg_catalog.text, r pg_catalog.bool) RETURNS pg_catalog.bool
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.pf_planted(what); RETURN r; END $$;
CREATE FUNCTION public.pf_eq_tt(pg_catalog.text, pg_catalog.text) RETURNS pg_catalog.bool LANGUAGE sql
SET search_path = pg_catalog AS $$ SELECT public.pf_op('=(text,text)', $1 OPERATOR(pg_catalog.=) $2) $$;
CREATE OPERATOR public.= (LEFTARG = pg_catalog.text, RIGHTARG = pg_catalog.text, FUNCTION = public.pf_eq_tt);
CREATE FUNCTION public.pf_eq_vt(pg_catalog.varchar, pg_catalog.text) RETURNS pg_catalog.bool LANGUAGE sql
SET search_path = pg_catalog AS $$ SELECT public.pf_op('=(varchar,text)', $1 OPERATOR(pg_catalog.=) $2) $$;
CREATE OPERATOR public.= (LEFTARG = pg_catalog.varchar, RIGHTARG = pg_catalog.text, FUNCTION = public.pf_eq_vt);
CREATE FUNCTION public.pf_eq_88(pg_catalog.int8, pg_catalog.int8) RETURNS pg_catalog.bool LANGUAGE sql
SET search_path = pg_catalog AS $$ SELECT public.pf_op('=(int8,int8)', $1 OPERATOR(pg_catalog.=) $2) $$;
CREATE OPERATOR public.= (LEFTARG = pg_catalog.int8, RIGHTARG = pg_catalog.int8, FUNCTION = public.pf_eq_88);
CREATE FUNCTION public.pf_eq_44(pg_catalog.int4, pg_catalog.int4) RETURNS pg_catalog.bool LANGUAGE sql
SET search_path = pg_catalog AS $$ SELECT public.pf_op('=(int4,int4)', $1 OPERATOR(pg_catalog.=) $2) $$;
CREATE OPERATOR public.= (LEFTARG = pg_catalog.int4, RIGHTARG = pg_catalog.int4, FUNCTION = public.pf_eq_44);
CREATE FUNCTION public.pf_eq_or(pg_catalog.oid, pg_catalog.regclass) RETURNS pg_catalog.bool LANGUAGE sql
SET search_path = pg_catalog AS $$ SELECT public.pf_op('=(oid,regclass)', $1 OPERATOR(pg_catalog.=) $2) $$;
CREATE OPERATOR public.= (LEFTARG = pg_catalog.oid, RIGHTARG = pg_catalog.regclass, FUNCTION = public.pf_eq_or);
CREATE FUNCTION public.pf_lt_ri(pg_catalog.float4, pg_catalog.int4) RETURNS pg_catalog.bool LANGUAGE sql
SET search_path = pg_catalog AS $$ SELECT public.pf_op('<(float4,int4)', $1 OPERATOR(pg_catalog.<) $2) $$;
CREATE OPERATOR public.< (LEFTARG = pg_catalog.float4, RIGHTARG = pg_catalog.int4, FUNCTION = public.pf_lt_ri);
CREATE FUNCTION public.pf_gt_ts(pg_catalog.timestamptz, pg_catalog.timestamptz) RETURNS pg_catalog.bool LANGUAGE sql
SET search_path = pg_catalog AS $$ SELECT public.pf_op('>(timestamptz,timestamptz)', $1 OPERATOR(pg_catalog.>) $2) $$;
CREATE OPERATOR public.> (LEFTARG = pg_catalog.timestamptz, RIGHTARG = pg_catalog.timestamptz, FUNCTION = public.pf_gt_ts);
CREATE FUNCTION public.pf_minus_ti(pg_catalog.timestamptz, pg_catalog.interval) RETURNS pg_catalog.timestamptz
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.pf_planted('-(timestamptz,interval)'); RETURN $1 OPERATOR(pg_catalog.-) $2; END $$;
CREATE OPERATOR public.- (LEFTARG = pg_catalog.timestamptz, RIGHTARG = pg_catalog.interval, FUNCTION = public.pf_minus_ti);
CREATE FUNCTION public.pf_cat_jj(pg_catalog.jsonb, pg_catalog.jsonb) RETURNS pg_catalog.jsonb
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.pf_planted('||(jsonb,jsonb)'); RETURN $1 OPERATOR(pg_catalog.||) $2; END $$;
CREATE OPERATOR public.|| (LEFTARG = pg_catalog.jsonb, RIGHTARG = pg_catalog.jsonb, FUNCTION = public.pf_cat_jj);

-- Types: a domain's CHECK runs on every cast to it.
CREATE DOMAIN public.text AS pg_catalog.text CHECK (public.pf_planted('type text'));
CREATE DOMAIN public.int4 AS pg_catalog.int4 CHECK (public.pf_planted('type int4'));
CREATE DOMAIN public.int8 AS pg_catalog.int8 CHECK (public.pf_planted('type int8'));
CREATE DOMAIN public.uuid AS pg_catalog.uuid CHECK (public.pf_planted('type uuid'));
CREATE DOMAIN public.jsonb AS pg_catalog.jsonb CHECK (public.pf_planted('type jsonb'));
CREATE DOMAIN public.bytea AS pg_catalog.bytea CHECK (public.pf_planted('type bytea'));
CREATE DOMAIN public.float4 AS pg_catalog.float4 CHECK (public.pf_planted('type float4'));
CREATE DOMAIN public.regclass AS pg_catalog.regclass CHECK (public.pf_planted('type regclass'));
