-- The operator's SQL surface (issue #19): one argument naming style, a comment
-- on every object, errors instead of NULLs, the untyped mark_* literal,
-- forget_service, one verification run at a time, ingest_progress and the
-- aggregated librarian service row, reconcile() outside the storage root and
-- relocate_storage(). (NOTIFY and inbox_report's stuck files need running
-- librarians: test/e2e/70_operator.sh.)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS photofactory;
RESET client_min_messages;
\set VERBOSITY terse

CREATE FUNCTION pg_temp.try(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- One naming style: no argument of any function is p_-prefixed.
SELECT p.oid::regprocedure AS p_prefixed_arguments
  FROM pg_proc p
 WHERE p.pronamespace = 'photofactory'::regnamespace
   AND EXISTS (SELECT 1 FROM unnest(p.proargnames) AS a WHERE a ~ '^p_')
 ORDER BY 1;

-- Every table, column, view and function of the extension has a comment.
WITH members AS (
    SELECT d.classid, d.objid FROM pg_depend d
     WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
       AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'photofactory')
)
SELECT 'function ' || p.oid::regprocedure::text AS uncommented
  FROM members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
 WHERE obj_description(p.oid, 'pg_proc') IS NULL
UNION ALL
SELECT 'relation ' || c.oid::regclass::text
  FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
 WHERE c.relkind IN ('r', 'v', 'm', 'p') AND obj_description(c.oid, 'pg_class') IS NULL
UNION ALL
SELECT 'column ' || c.oid::regclass::text || '.' || a.attname
  FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relkind IN ('r', 'v', 'm', 'p') AND col_description(c.oid, a.attnum) IS NULL
 ORDER BY 1;

-- Renamed arguments work by name; the old names are gone.
SELECT count(*) AS none_claimed FROM photofactory.pending_geocoding(max_rows => 0);
SELECT pg_temp.try($$SELECT photofactory.recent_assets(p_limit => 1)$$) AS old_name;

-- mark_*: an untyped literal resolves (it was "not unique"), typed calls are
-- unchanged, and all four share one body.
TRUNCATE photofactory.media_assets;
INSERT INTO photofactory.media_assets (id, file_hash, original_name, original_path, final_path, size_bytes)
VALUES ('00000000-0000-0000-0000-0000000000b1', repeat('b', 63) || '1', 'b1.jpg', '/i/b1.jpg', '/s/b1.jpg', 1),
       ('00000000-0000-0000-0000-0000000000b2', repeat('b', 63) || '2', 'b2.jpg', '/i/b2.jpg', '/s/b2.jpg', 1),
       ('00000000-0000-0000-0000-0000000000b3', repeat('b', 63) || '3', 'b3.jpg', '/i/b3.jpg', '/s/b3.jpg', 1);
SELECT photofactory.mark_geocoded('00000000-0000-0000-0000-0000000000b1') AS literal,
       photofactory.mark_geocoded('00000000-0000-0000-0000-0000000000b1') AS again;
SELECT photofactory.mark_thumbnailed('{00000000-0000-0000-0000-0000000000b1,00000000-0000-0000-0000-0000000000b2}')
       AS array_literal;
SELECT photofactory.mark_curated('00000000-0000-0000-0000-0000000000b3'::uuid) AS typed,
       photofactory.mark_backed_up(ARRAY['00000000-0000-0000-0000-0000000000b3',
                                         '00000000-0000-0000-0000-0000000000ff']::uuid[]) AS typed_array;
SELECT original_name, is_geocoded, is_thumbnailed, is_curated, is_backed_up,
       (geocoded_at IS NOT NULL) = is_geocoded AND (backed_up_at IS NOT NULL) = is_backed_up AS stamped
  FROM photofactory.media_assets ORDER BY 1;
SELECT s.stmt, pg_temp.try(s.stmt) AS outcome
  FROM unnest(ARRAY[
        $$SELECT photofactory.mark_geocoded(NULL)$$,
        $$SELECT photofactory.mark_geocoded(NULL::uuid)$$,
        $$SELECT photofactory.mark_geocoded(NULL::uuid[])$$,
        $$SELECT photofactory.mark_geocoded(ARRAY[NULL]::uuid[])$$,
        $$SELECT photofactory.mark_curated('00000000-0000-0000-0000-00000000ffff')$$,
        $$SELECT photofactory.mark_curated('not a uuid')$$]) WITH ORDINALITY AS s(stmt, n)
 ORDER BY n;
SELECT count(DISTINCT p.prosrc) AS bodies, bool_and(p.prosrc ~ '_mark_done') AS all_share_mark_done
  FROM pg_proc p WHERE p.pronamespace = 'photofactory'::regnamespace AND p.proname ~ '^mark_';

-- forget_service: a misspelt service's row can be removed; unknown names raise.
SELECT service_name FROM photofactory.heartbeat('librarain', 'ok', 'typo');
SELECT photofactory.forget_service('librarain');
SELECT count(*) AS rows_left FROM photofactory.system_status WHERE service_name = 'librarain';
SELECT pg_temp.try($$SELECT photofactory.forget_service('librarain')$$) AS unknown,
       pg_temp.try($$SELECT photofactory.forget_service(NULL)$$) AS null_name;

-- Verification runs: one at a time (a trigger on verification_runs); cancel
-- raises like the rest. start_verification() itself acts only in the
-- library's database (section 1's guard; pg_regress runs in another one), so
-- runs are queued here the way it queues them; test/e2e/40_integrity.sh and
-- 74_guards.sh call it for real.
TRUNCATE photofactory.verification_runs;
WITH r AS (INSERT INTO photofactory.verification_runs (sample) VALUES (NULL) RETURNING id)
SELECT count(*) = 1 AS first_run_queued FROM r;
SELECT regexp_replace(pg_temp.try($$INSERT INTO photofactory.verification_runs (sample) VALUES (0.5)$$), '\d+', 'N')
       AS second_run;
SELECT photofactory.cancel_verification(id) AS cancelled FROM photofactory.verification_runs;
SELECT photofactory.cancel_verification(id) AS cancelled_again FROM photofactory.verification_runs;
SELECT pg_temp.try($$SELECT photofactory.cancel_verification(NULL)$$) AS null_id,
       pg_temp.try($$SELECT photofactory.cancel_verification(-1)$$) AS unknown_id;
WITH r AS (INSERT INTO photofactory.verification_runs (sample) VALUES (NULL) RETURNING id)
SELECT count(*) = 1 AS new_run_after_cancel FROM r;
TRUNCATE photofactory.verification_runs;

-- Progress. Two librarians report; a round started 30 s ago with 100 files
-- ready; 30 files of 1 MB were done 10 s ago. (One transaction: now() is fixed.)
TRUNCATE photofactory.inbox_events, photofactory.librarian_state;
BEGIN;
SELECT photofactory._librarian_beat(0, 2, 'OK', 'Watching /in', '/in', true, 100, 3, 1, 0, '{stuck.jpg}');
SELECT photofactory._librarian_beat(1, 2, 'OK', 'Watching /in', '/in', false, 0, 0, 0, 0, '{}');
UPDATE photofactory.librarian_state SET round_started_at = now() - interval '30 s', scanned_at = now() - interval '30 s'
 WHERE librarian = 0;
INSERT INTO photofactory.inbox_events (occurred_at, outcome, original_name, original_path, file_hash, size_bytes, asset_id)
SELECT now() - interval '10 s', 'ingested', 'f' || g, '/in/f' || g, encode(sha256(g::text::bytea), 'hex'), 1000000,
       gen_random_uuid()
  FROM generate_series(1, 30) g;
SELECT librarians, status, busy, waiting, settling, stuck, done_this_round, bytes_this_round,
       files_per_second, mb_per_second, eta
  FROM photofactory.ingest_progress;
-- The service row is the aggregate, whichever librarian wrote it last.
SELECT photofactory._librarian_beat(1, 2, 'OK', 'Watching /in', '/in', false, 0, 0, 0, 0, '{}');
SELECT status, current_task FROM photofactory.system_status WHERE service_name = 'librarian';
-- A problem of one librarian is what the row says.
SELECT photofactory._librarian_beat(1, 2, 'WARNING', 'Paused: photofactory.ingest_enabled is off', '/in',
                                    false, 0, 0, 0, 0, '{}');
SELECT status, current_task FROM photofactory.system_status WHERE service_name = 'librarian';
SELECT status FROM photofactory.ingest_progress;
COMMIT;
-- Fewer librarians: the surplus row goes. A scan that finds nothing ends the round.
SELECT photofactory._librarian_beat(0, 1, 'OK', 'Watching /in: idle', '/in', true, 0, 0, 0, 0, '{}');
SELECT librarian, round_ended_at IS NOT NULL AS round_ended FROM photofactory.librarian_state;
SELECT librarians, status, busy, waiting, done_this_round, eta FROM photofactory.ingest_progress;
SELECT status, current_task FROM photofactory.system_status WHERE service_name = 'librarian';
-- The last librarian stopping says so, instead of its last task.
SELECT photofactory._librarian_gone(0);
SELECT count(*) AS state_rows FROM photofactory.librarian_state;
SELECT status, current_task FROM photofactory.system_status WHERE service_name = 'librarian';
TRUNCATE photofactory.inbox_events, photofactory.librarian_state;
SELECT photofactory.forget_service('librarian');

-- reconcile() reports rows outside the storage root: it walks the library, so
-- it acts only in the library's database (test/e2e/40_integrity.sh checks it).
TRUNCATE photofactory.media_assets;
INSERT INTO photofactory.media_assets (id, file_hash, original_name, original_path, final_path, size_bytes)
VALUES ('00000000-0000-0000-0000-0000000000c1', repeat('c', 64), 'c1.jpg', '/i/c1.jpg', '/old-disk/Originals/c1.jpg', 1);

-- relocate_storage(): refuses bad roots and a new root without the files, then
-- moves the ledger when the sample's content is where it should be.
SELECT s.stmt, pg_temp.try(s.stmt) AS outcome
  FROM unnest(ARRAY[
        $$SELECT photofactory.relocate_storage(NULL, '/x')$$,
        $$SELECT photofactory.relocate_storage('/old-disk', 'relative')$$,
        $$SELECT photofactory.relocate_storage('/old-disk', '/old-disk/')$$,
        $$SELECT photofactory.relocate_storage('/old-disk', '/new/../disk')$$,
        $$SELECT photofactory.relocate_storage('/nowhere', '/new-disk')$$,
        $$SELECT photofactory.relocate_storage('/old-disk', '/new-disk-without-files')$$]) WITH ORDINALITY AS s(stmt, n)
 ORDER BY n;
SELECT final_path FROM photofactory.media_assets;
-- A "new disk" holding the file: the data directory (COPY TO writes there).
CREATE TEMP TABLE pf_root AS SELECT current_setting('data_directory') AS root;
UPDATE photofactory.media_assets SET final_path = '/old-disk/c1.jpg';
DO $$ BEGIN
    EXECUTE format('COPY (SELECT ''relocated'') TO %L', current_setting('data_directory') || '/c1.jpg');
END $$;
UPDATE photofactory.media_assets SET file_hash = encode(sha256(convert_to(E'relocated\n', 'UTF8')), 'hex');
SET client_min_messages = error;  -- the WARNING names this cluster's storage_dir
SELECT photofactory.relocate_storage('/old-disk', root) AS relocated FROM pf_root;
RESET client_min_messages;
SELECT final_path = (SELECT root FROM pf_root) || '/c1.jpg' AS moved_in_the_ledger FROM photofactory.media_assets;
TRUNCATE photofactory.media_assets;

-- (Privileges of the new functions: 06_privileges lists every function's.)
