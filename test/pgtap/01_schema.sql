-- Schema of photofactory: tables, columns (type, NOT NULL, default), keys,
-- indexes, checks, triggers, the view and the functions' signatures.
BEGIN;
SELECT plan(196);

SELECT has_schema('photofactory');
SELECT has_table('photofactory', t, format('table photofactory.%s exists', t))
  FROM unnest(ARRAY['media_assets', 'system_status', 'system_status_history', 'inbox_events']) AS t;
SELECT has_view('photofactory', 'service_health', 'view service_health exists');

-- media_assets: every column with its type, nullability and default.
SELECT columns_are('photofactory', 'media_assets', ARRAY[
    'id', 'file_hash', 'original_name', 'original_path', 'final_path', 'size_bytes', 'captured_at',
    'ingested_at', 'location', 'is_ingested', 'is_geocoded', 'is_thumbnailed', 'is_curated',
    'is_backed_up', 'has_errors', 'error_message', 'geocoded_at', 'thumbnailed_at', 'curated_at',
    'backed_up_at', 'created_at', 'updated_at', 'utc_offset_minutes', 'date_source', 'media_kind',
    'media_format', 'time_zone', 'companion_of', 'group_key']);
SELECT col_type_is('photofactory', 'media_assets', c, t, format('media_assets.%s is %s', c, t))
  FROM (VALUES ('id', 'uuid'), ('file_hash', 'character varying(64)'),
               ('original_name', 'character varying(512)'), ('original_path', 'text'),
               ('final_path', 'text'), ('size_bytes', 'bigint'),
               ('captured_at', 'timestamp without time zone'),
               ('ingested_at', 'timestamp with time zone'), ('location', 'jsonb'),
               ('is_ingested', 'boolean'), ('is_geocoded', 'boolean'), ('is_thumbnailed', 'boolean'),
               ('is_curated', 'boolean'), ('is_backed_up', 'boolean'), ('has_errors', 'boolean'),
               ('error_message', 'text'), ('geocoded_at', 'timestamp with time zone'),
               ('thumbnailed_at', 'timestamp with time zone'), ('curated_at', 'timestamp with time zone'),
               ('backed_up_at', 'timestamp with time zone'), ('created_at', 'timestamp with time zone'),
               ('updated_at', 'timestamp with time zone'), ('utc_offset_minutes', 'smallint'),
               ('date_source', 'text'), ('media_kind', 'text'), ('media_format', 'text'),
               ('time_zone', 'text'), ('companion_of', 'uuid'), ('group_key', 'text')) AS v(c, t);
SELECT col_not_null('photofactory', 'media_assets', c, format('media_assets.%s is NOT NULL', c))
  FROM unnest(ARRAY['id', 'file_hash', 'original_name', 'original_path', 'final_path', 'size_bytes',
                    'ingested_at', 'is_ingested', 'is_geocoded', 'is_thumbnailed', 'is_curated',
                    'is_backed_up', 'has_errors', 'created_at', 'updated_at']) AS c;
SELECT col_is_null('photofactory', 'media_assets', c, format('media_assets.%s is nullable', c))
  FROM unnest(ARRAY['captured_at', 'location', 'error_message', 'geocoded_at', 'thumbnailed_at',
                    'curated_at', 'backed_up_at', 'utc_offset_minutes', 'date_source', 'media_kind',
                    'media_format', 'time_zone', 'companion_of', 'group_key']) AS c;
SELECT col_default_is('photofactory', 'media_assets', 'id', 'gen_random_uuid()', 'id defaults to gen_random_uuid()');
SELECT col_default_is('photofactory', 'media_assets', c, d, format('media_assets.%s defaults to %s', c, d))
  FROM (VALUES ('ingested_at', 'now()'), ('created_at', 'now()'), ('updated_at', 'now()'),
               ('is_ingested', 'true'), ('is_geocoded', 'false'), ('is_thumbnailed', 'false'),
               ('is_curated', 'false'), ('is_backed_up', 'false'), ('has_errors', 'false')) AS v(c, d);
SELECT col_is_pk('photofactory', 'media_assets', 'id', 'media_assets primary key is id');
SELECT col_is_unique('photofactory', 'media_assets', 'file_hash', 'file_hash is unique');
SELECT indexes_are('photofactory', 'media_assets', ARRAY[
    'media_assets_pkey', 'media_assets_file_hash_key',
    'idx_media_assets_captured_at', 'idx_media_assets_ingested_at', 'idx_media_assets_is_geocoded',
    'idx_media_assets_is_backed_up', 'idx_media_assets_has_errors',
    'idx_media_assets_pending_thumbnails', 'idx_media_assets_pending_curation',
    'idx_media_assets_companion_of', 'idx_media_assets_group_key']);
SELECT has_index('photofactory', 'media_assets', 'idx_media_assets_captured_at', 'captured_at',
                 'idx_media_assets_captured_at is on captured_at');
SELECT has_index('photofactory', 'media_assets', 'idx_media_assets_ingested_at', 'ingested_at',
                 'idx_media_assets_ingested_at is on ingested_at');
SELECT is(pg_get_expr(i.indpred, i.indrelid), p, format('%s is partial: WHERE %s', i.indexrelid::regclass, p))
  FROM (VALUES ('idx_media_assets_is_geocoded', '(is_ingested AND (NOT is_geocoded) AND (location IS NOT NULL))'),
               ('idx_media_assets_pending_thumbnails', '(is_ingested AND (NOT is_thumbnailed))'),
               ('idx_media_assets_pending_curation', '(is_ingested AND (NOT is_curated))'),
               ('idx_media_assets_is_backed_up', '(is_ingested AND (NOT is_backed_up))'),
               ('idx_media_assets_has_errors', 'has_errors'),
               ('idx_media_assets_companion_of', '(companion_of IS NOT NULL)'),
               ('idx_media_assets_group_key', '(companion_of IS NULL)')) AS v(n, p)
  JOIN pg_index i ON i.indexrelid = ('photofactory.' || v.n)::regclass;
SELECT has_check('photofactory', 'media_assets', 'media_assets has CHECK constraints');
SELECT ok(EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'photofactory.media_assets'::regclass
                     AND conname = n AND contype = 'c'), format('CHECK %s exists', n))
  FROM unnest(ARRAY['media_assets_file_hash_check', 'media_assets_size_bytes_check',
                    'media_assets_location_check', 'media_assets_geocoded_check',
                    'media_assets_thumbnailed_check', 'media_assets_curated_check',
                    'media_assets_backed_up_check', 'media_assets_has_errors_check',
                    'media_assets_error_message_check', 'media_assets_utc_offset_minutes_check',
                    'media_assets_date_source_check', 'media_assets_media_kind_check',
                    'media_assets_media_format_check', 'media_assets_time_zone_check',
                    'media_assets_companion_of_check']) AS n;
-- asset_sidecars: sidecars stored beside their asset.
SELECT has_table('photofactory', 'asset_sidecars', 'table photofactory.asset_sidecars exists');
SELECT columns_are('photofactory', 'asset_sidecars', ARRAY[
    'id', 'asset_id', 'kind', 'file_hash', 'original_name', 'original_path', 'final_path', 'size_bytes',
    'ingested_at']);
SELECT col_is_pk('photofactory', 'asset_sidecars', 'id', 'asset_sidecars primary key is id');
SELECT col_is_unique('photofactory', 'asset_sidecars', 'final_path', 'a stored sidecar path is unique');
SELECT col_is_unique('photofactory', 'asset_sidecars', ARRAY['asset_id', 'file_hash'],
                     'one copy of a sidecar content per asset');
SELECT throws_ok($$INSERT INTO photofactory.asset_sidecars (asset_id, kind, file_hash, original_name, original_path, final_path, size_bytes)
                   VALUES (gen_random_uuid(), 'doc', repeat('a', 64), 'x', 'x', 'x', 1)$$, '23514', NULL,
                 'sidecar kind is checked');
SELECT has_trigger('photofactory', 'media_assets', 'media_assets_guard', 'media_assets has its guard trigger');

-- system_status.
SELECT columns_are('photofactory', 'system_status',
                   ARRAY['service_name', 'last_heartbeat', 'status', 'current_task', 'updated_at']);
SELECT col_type_is('photofactory', 'system_status', c, t, format('system_status.%s is %s', c, t))
  FROM (VALUES ('service_name', 'character varying(64)'), ('last_heartbeat', 'timestamp with time zone'),
               ('status', 'character varying(16)'), ('current_task', 'text'),
               ('updated_at', 'timestamp with time zone')) AS v(c, t);
SELECT col_is_pk('photofactory', 'system_status', 'service_name', 'system_status primary key is service_name');
SELECT col_not_null('photofactory', 'system_status', c, format('system_status.%s is NOT NULL', c))
  FROM unnest(ARRAY['last_heartbeat', 'status', 'updated_at']) AS c;
SELECT col_is_null('photofactory', 'system_status', 'current_task', 'system_status.current_task is nullable');
SELECT col_default_is('photofactory', 'system_status', 'status', 'OK'::varchar, 'status defaults to OK');
SELECT col_default_is('photofactory', 'system_status', 'last_heartbeat', 'now()', 'last_heartbeat defaults to now()');
SELECT has_check('photofactory', 'system_status', 'system_status has CHECK constraints');
SELECT has_trigger('photofactory', 'system_status', 'system_status_stamp', 'system_status timestamps are server-set');

-- system_status_history.
SELECT columns_are('photofactory', 'system_status_history',
                   ARRAY['id', 'service_name', 'status', 'current_task', 'heartbeat_timestamp', 'created_at']);
SELECT col_type_is('photofactory', 'system_status_history', c, t, format('system_status_history.%s is %s', c, t))
  FROM (VALUES ('id', 'bigint'), ('service_name', 'character varying(64)'), ('status', 'character varying(16)'),
               ('current_task', 'text'), ('heartbeat_timestamp', 'timestamp with time zone'),
               ('created_at', 'timestamp with time zone')) AS v(c, t);
SELECT col_is_pk('photofactory', 'system_status_history', 'id', 'system_status_history primary key is id');
SELECT is((SELECT attidentity::text FROM pg_attribute
            WHERE attrelid = 'photofactory.system_status_history'::regclass AND attname = 'id'),
          'a', 'system_status_history.id is GENERATED ALWAYS AS IDENTITY');
SELECT col_not_null('photofactory', 'system_status_history', c, format('system_status_history.%s is NOT NULL', c))
  FROM unnest(ARRAY['service_name', 'status', 'heartbeat_timestamp', 'created_at']) AS c;
SELECT has_index('photofactory', 'system_status_history', 'idx_system_status_history_service_timestamp',
                 ARRAY['service_name', 'heartbeat_timestamp'],
                 'idx_system_status_history_service_timestamp is on (service_name, heartbeat_timestamp)');
SELECT has_check('photofactory', 'system_status_history', 'system_status_history has CHECK constraints');

-- inbox_events.
SELECT columns_are('photofactory', 'inbox_events',
                   ARRAY['id', 'occurred_at', 'outcome', 'original_name', 'original_path', 'stored_path',
                         'file_hash', 'size_bytes', 'asset_id', 'reason']);
SELECT col_type_is('photofactory', 'inbox_events', c, t, format('inbox_events.%s is %s', c, t))
  FROM (VALUES ('id', 'bigint'), ('occurred_at', 'timestamp with time zone'), ('outcome', 'text'),
               ('original_name', 'text'), ('original_path', 'text'), ('stored_path', 'text'),
               ('file_hash', 'text'), ('size_bytes', 'bigint'), ('asset_id', 'uuid'), ('reason', 'text')) AS v(c, t);
SELECT col_not_null('photofactory', 'inbox_events', c, format('inbox_events.%s is NOT NULL', c))
  FROM unnest(ARRAY['id', 'occurred_at', 'outcome', 'original_name', 'original_path']) AS c;
SELECT col_default_is('photofactory', 'inbox_events', 'occurred_at', 'now()', 'occurred_at defaults to now()');
SELECT indexes_are('photofactory', 'inbox_events', ARRAY[
    'inbox_events_pkey', 'idx_inbox_events_occurred_at', 'idx_inbox_events_original_name', 'idx_inbox_events_file_hash']);
SELECT hasnt_fk('photofactory', 'inbox_events', 'inbox_events has no foreign key (as in the seed)');

-- The view.
SELECT columns_are('photofactory', 'service_health',
                   ARRAY['service_name', 'status', 'current_task', 'last_heartbeat', 'age', 'age_seconds', 'colour']);

-- Functions: signatures and return types are the interface.
SELECT function_returns('photofactory', f, a, r, format('%s(%s) returns %s', f, array_to_string(a, ', '), r))
  FROM (VALUES ('pending_geocoding', ARRAY['integer'], 'setof photofactory.media_assets'),
               ('pending_thumbnails', ARRAY['integer'], 'setof photofactory.media_assets'),
               ('pending_curation', ARRAY['integer'], 'setof photofactory.media_assets'),
               ('pending_backup', ARRAY['integer'], 'setof photofactory.media_assets'),
               ('assets_with_errors', ARRAY['integer'], 'setof photofactory.media_assets'),
               ('recent_assets', ARRAY['integer'], 'setof photofactory.media_assets'),
               ('mark_geocoded', ARRAY['uuid'], 'integer'), ('mark_geocoded', ARRAY['uuid[]'], 'integer'),
               ('mark_thumbnailed', ARRAY['uuid'], 'integer'), ('mark_thumbnailed', ARRAY['uuid[]'], 'integer'),
               ('mark_curated', ARRAY['uuid'], 'integer'), ('mark_curated', ARRAY['uuid[]'], 'integer'),
               ('mark_backed_up', ARRAY['uuid'], 'integer'), ('mark_backed_up', ARRAY['uuid[]'], 'integer'),
               ('record_error', ARRAY['uuid', 'text'], 'void'),
               ('clear_error', ARRAY['uuid'], 'integer'),
               ('heartbeat', ARRAY['text', 'text', 'text'], 'photofactory.system_status'),
               ('cleanup_history', ARRAY['interval'], 'bigint'),
               ('schedule_retention', ARRAY['text'], 'bigint'),
               ('unschedule_retention', ARRAY[]::text[], 'boolean'),
               ('is_valid_location', ARRAY['jsonb'], 'boolean'),
               ('inspect_file', ARRAY['text'], 'jsonb')) AS v(f, a, r);
SELECT is_definer('photofactory', 'schedule_retention', ARRAY['text'], 'schedule_retention is SECURITY DEFINER');
SELECT is_definer('photofactory', 'unschedule_retention', ARRAY[]::text[], 'unschedule_retention is SECURITY DEFINER');
-- Verification and reconciliation read the library through internal C
-- functions granted to nobody, and record results operators may not write.
SELECT is_definer('photofactory', 'verify_assets', ARRAY['integer', 'timestamp with time zone', 'double precision'], 'verify_assets is SECURITY DEFINER');
SELECT is_definer('photofactory', 'start_verification', ARRAY['timestamp with time zone', 'double precision'], 'start_verification is SECURITY DEFINER');
SELECT is_definer('photofactory', 'cancel_verification', ARRAY['bigint'], 'cancel_verification is SECURITY DEFINER');
SELECT is_definer('photofactory', 'reconcile', ARRAY[]::text[], 'reconcile is SECURITY DEFINER');
SELECT is_definer('photofactory', 'adopt_orphan', ARRAY['text'], 'adopt_orphan is SECURITY DEFINER');
-- forget_service deletes a status row, which operators may not do directly.
SELECT is_definer('photofactory', 'forget_service', ARRAY['text'], 'forget_service is SECURITY DEFINER');
SELECT is_definer('photofactory', 'adopt_orphans', ARRAY[]::text[], 'adopt_orphans is SECURITY DEFINER');
-- It reads photofactory.storage_dir, a superuser-only setting.
SELECT is_definer('photofactory', 'thumbnail_path', ARRAY['uuid', 'text'], 'thumbnail_path is SECURITY DEFINER');
SELECT is(count(*), 0::bigint, 'no other function is SECURITY DEFINER')
  FROM pg_proc WHERE pronamespace = 'photofactory'::regnamespace AND prosecdef
   AND proname NOT IN ('schedule_retention', 'unschedule_retention', 'verify_assets', 'start_verification',
                       'cancel_verification', 'reconcile', 'adopt_orphan', 'adopt_orphans', 'forget_service',
                       'thumbnail_path',
                       -- backup (0.2.0)
                       'add_backup_target', 'retire_backup_target', 'start_backup_scrub', 'backup_report',
                       'restore_original', 'restore_all');
SELECT is(count(*), 0::bigint, 'no SQL-level function is STRICT (NULL input raises instead)')
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'photofactory'::regnamespace AND p.proisstrict AND l.lanname IN ('sql', 'plpgsql');
SELECT is(count(*), 0::bigint, 'every SQL/PL/pgSQL function pins its search_path')
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'photofactory'::regnamespace AND l.lanname IN ('sql', 'plpgsql')
   AND NOT coalesce(p.proconfig, '{}') @> ARRAY['search_path=pg_catalog, photofactory, pg_temp'];
SELECT volatility_is('photofactory', 'is_valid_location', ARRAY['jsonb'], 'immutable',
                     'is_valid_location is IMMUTABLE (usable in a CHECK)');

SELECT * FROM finish();
ROLLBACK;
