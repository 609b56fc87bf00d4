------------------------------------------------------------------------------
-- pg_dump marks
------------------------------------------------------------------------------
-- pg_dump keeps the ledger. Extension member tables are skipped by pg_dump
-- unless marked as configuration: mark every table that holds user data, and
-- the sequences behind their identity columns (so that restored tables go on
-- numbering after their last row). The script inserts no rows into any of
-- them, so every row is dumped (filter ''); a table that ever gets seed rows
-- must filter them out here, or a restore collides with them.
--
-- ingest_journal is dumped too: a dump is one snapshot, and a journal row is
-- a move that was in flight at that instant. Restored, it is what a crash at
-- that instant leaves, and the librarian's recovery resolves it against the
-- files (finish on proof, or roll back) exactly as after a crash. Without it,
-- such a file would sit in Originals/ with no row (an orphan).
SELECT pg_catalog.pg_extension_config_dump('photofactory.media_assets', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.asset_sidecars', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.inbox_events', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.asset_integrity', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.verification_runs', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.system_status', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.system_status_history', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.ingest_journal', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.inbox_events_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.verification_runs_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.system_status_history_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.ingest_journal_id_seq', '');

-- Places: all four survive pg_dump/restore: a restored library must not need the
-- network to name its places, and is_geocoded would otherwise claim answers
-- that asset_places no longer holds.
SELECT pg_catalog.pg_extension_config_dump('photofactory.places', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.places_dataset', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.asset_places', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.country_shapes', '');

-- Backup: its targets, copies and events (a restored library knows what is
-- already copied where).
SELECT pg_catalog.pg_extension_config_dump('photofactory.backup_targets', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.asset_copies', '');
SELECT pg_catalog.pg_extension_config_dump('photofactory.backup_events', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('photofactory.asset_copies', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('photofactory.backup_events', 'id'), '');

-- Retry bookkeeping of the thumbnailer survives pg_dump like the ledger (a
-- restored library does not retry renditions that were given up on).
-- librarian_state is not dumped: it describes processes, and a restored
-- server's librarians write it anew.
SELECT pg_catalog.pg_extension_config_dump('photofactory.thumbnail_failures', '');

