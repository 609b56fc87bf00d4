-- Shape of the photofactory schema: columns, constraints, indexes, triggers,
-- functions. Catalog queries rather than \d so the output does not depend on
-- the psql version.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS photofactory;
RESET client_min_messages;

-- Every relation of the schema.
SELECT c.relname, c.relkind
  FROM pg_class c
 WHERE c.relnamespace = 'photofactory'::regnamespace AND c.relkind IN ('r', 'v', 'S')
 ORDER BY c.relname;

-- Columns: type, NOT NULL, default, identity.
SELECT c.relname AS "table", a.attname AS "column",
       format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null,
       pg_get_expr(d.adbin, d.adrelid) AS "default",
       a.attidentity AS ident
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace = 'photofactory'::regnamespace AND c.relkind IN ('r', 'v')
   AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY c.relname, a.attnum;

-- Constraints.
SELECT conrelid::regclass AS "table", conname, contype, pg_get_constraintdef(oid) AS definition
  FROM pg_constraint
 WHERE connamespace = 'photofactory'::regnamespace
 ORDER BY conrelid::regclass::text, conname;

-- Indexes (names are part of the interface: the seed's names are kept).
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) AS definition
  FROM pg_index
 WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'photofactory'::regnamespace)
 ORDER BY indexrelid::regclass::text;

-- Triggers.
SELECT tgrelid::regclass AS "table", pg_get_triggerdef(oid) AS definition
  FROM pg_trigger
 WHERE NOT tgisinternal
   AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'photofactory'::regnamespace)
 ORDER BY 1::text, tgname;

-- Functions: signature, result, volatility, strictness, security, settings.
SELECT p.oid::regprocedure AS function,
       pg_get_function_result(p.oid) AS returns,
       p.provolatile AS vol, p.proisstrict AS strict, p.prosecdef AS secdef,
       l.lanname AS lang, p.proconfig AS config
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'photofactory'::regnamespace
 ORDER BY p.oid::regprocedure::text;

-- The view's columns and types.
SELECT a.attname, format_type(a.atttypid, a.atttypmod)
  FROM pg_attribute a
 WHERE a.attrelid = 'photofactory.service_health'::regclass AND a.attnum > 0
 ORDER BY a.attnum;

-- Everything in the schema belongs to the extension (so DROP EXTENSION removes it).
SELECT count(*) AS not_in_extension
  FROM pg_class c
 WHERE c.relnamespace = 'photofactory'::regnamespace
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
   AND c.relkind IN ('r', 'v', 'S');
SELECT count(*) AS functions_not_in_extension
  FROM pg_proc p
 WHERE p.pronamespace = 'photofactory'::regnamespace
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e');
