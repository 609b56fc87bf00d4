-- Loads :rows synthetic assets into photofactory.media_assets through the normal
-- INSERT path: the guard trigger and every CHECK run for every row (nothing is
-- disabled). Rows are committed 100 per transaction, as a batching librarian
-- would, so ingested_at (the trigger sets it to now()) takes rows/100 distinct
-- values in insertion order. synchronous_commit = off only speeds up this
-- loading session.
--
-- Shape of the library (the newest rows are the ones still in the queues):
--   80 % of the assets have a GPS location; the newest 1 % of those are not geocoded yet,
--   the newest 2 % are not thumbnailed, 5 % not curated, 10 % not backed up;
--   one asset in 997 has an error message; one in 20 is a video.
-- Columns that later schema versions added (group_key, time_zone) are filled as
-- the librarian fills them when the table has them, so one script loads every
-- version of the ledger.
SET synchronous_commit = off;
SET client_min_messages = warning;
SELECT set_config('pfbench.rows', :'rows', false) \gset

DO $load$
DECLARE
    total bigint := current_setting('pfbench.rows')::bigint;
    batch constant int := 100;
    lo bigint := 1;
    extra_cols text := '';
    extra_vals text := '';
    stmt text;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'photofactory.media_assets'::regclass
                                            AND attname = 'group_key' AND NOT attisdropped) THEN
        -- lower-cased inbox folder + '/' + base name
        extra_cols := extra_cols || ', group_key';
        extra_vals := extra_vals || $v$, 'dcim/camera/' || lower(split_part(s.name, '.', 1))$v$;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'photofactory.media_assets'::regclass
                                            AND attname = 'time_zone' AND NOT attisdropped) THEN
        extra_cols := extra_cols || ', time_zone';
        extra_vals := extra_vals || $v$, 'file'$v$;
    END IF;
    stmt := format($sql$
        INSERT INTO photofactory.media_assets
            (file_hash, original_name, original_path, final_path, size_bytes, captured_at, location,
             is_geocoded, is_thumbnailed, is_curated, is_backed_up, error_message,
             utc_offset_minutes, date_source, media_kind, media_format %s)
        SELECT encode(sha256(convert_to('pfbench-' || s.i, 'UTF8')), 'hex'),
               s.name,
               '/srv/Photos_Inbox/DCIM/Camera/' || s.name,
               '/srv/Storage/Originals/' || to_char(s.cap, 'YYYY') || '/' || to_char(s.cap, 'YYYY-MM-DD') || '/' || s.name,
               1000000 + (s.i * 7919) %% 4000000,
               s.cap,
               CASE WHEN s.i %% 5 <> 0
                    THEN jsonb_build_object('lat', round(48 + (s.i %% 1000) / 1000.0, 6),
                                            'lon', round(2 + (s.i %% 777) / 1000.0, 6)) END,
               s.i %% 5 <> 0 AND s.i <= $1 * 0.99,
               s.i <= $1 * 0.98,
               s.i <= $1 * 0.95,
               s.i <= $1 * 0.90,
               CASE WHEN s.i %% 997 = 0 THEN 'thumbnailer: unsupported variant' END,
               120,
               'exif_original',
               CASE WHEN s.video THEN 'video' ELSE 'image' END,
               CASE WHEN s.video THEN 'mp4' ELSE 'jpeg' END
               %s
          FROM (SELECT g.i, g.i %% 20 = 0 AS video,
                       CASE WHEN g.i %% 20 = 0 THEN 'VID_' || lpad(g.i::text, 7, '0') || '.mp4'
                            ELSE 'IMG_' || lpad(g.i::text, 7, '0') || '.jpg' END AS name,
                       timestamp '2012-01-01 08:00' + g.i * interval '253 seconds' AS cap
                  FROM generate_series($2, $3) AS g(i)) AS s
        $sql$, extra_cols, extra_vals);
    WHILE lo <= total LOOP
        EXECUTE stmt USING total, lo, least(lo + batch - 1, total);
        COMMIT;
        lo := lo + batch;
    END LOOP;
END
$load$;

-- What autovacuum would have done on a long-lived ledger (visibility map,
-- statistics); then a clean start for the timed queries.
VACUUM (ANALYZE) photofactory.media_assets;
CHECKPOINT;
