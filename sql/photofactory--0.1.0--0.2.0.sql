\echo Use "ALTER EXTENSION photofactory UPDATE TO '0.2.0'" to load this file. \quit

-- photofactory 0.1.0 -> 0.2.0.
--
-- 0.1.0 is released and its script is frozen: every schema change after it
-- lives here. A fresh CREATE EXTENSION of 0.2.0 runs photofactory--0.1.0.sql
-- and then this script (PostgreSQL follows the update path when no
-- photofactory--0.2.0.sql exists, as contrib modules do), so a fresh install
-- and an upgraded database run the very same statements; test/upgrade proves
-- the resulting catalogs are equal.
--
-- The whole script runs in one transaction (CREATE/ALTER EXTENSION): a
-- failing step leaves the database at 0.1.0.
--
-- Conventions of 0.1.0 still hold: schema-qualify everything, pin
-- search_path on every function, revoke EXECUTE from PUBLIC on every new
-- function and grant it to the roles explicitly, and document each change
-- in docs/schema.md / docs/sql-api.md ("added in 0.2.0").
--
-- Sections (one per concern; keep additions inside their section so that
-- parallel work merges cleanly):

------------------------------------------------------------------------------
-- 1. Safety (issue #10): pg_dump marks, privileges, guards
------------------------------------------------------------------------------

------------------------------------------------------------------------------
-- 2. Metadata accuracy (issue #11)
------------------------------------------------------------------------------

-- New capture-date sources: 'iptc' (IPTC DateCreated + TimeCreated, ranked
-- with the other creation dates, before EXIF ModifyDate) and 'makernote' (a
-- vendor date in the maker notes, when no standard tag exists).
ALTER TABLE photofactory.media_assets DROP CONSTRAINT media_assets_date_source_check;
ALTER TABLE photofactory.media_assets ADD CONSTRAINT media_assets_date_source_check
    CHECK (date_source IN ('exif_original', 'exif_digitized', 'exif_image', 'xmp', 'iptc', 'makernote',
                           'video_local', 'video_utc', 'filename', 'mtime'));

------------------------------------------------------------------------------
-- 3. Release engineering (issue #13)
------------------------------------------------------------------------------
-- No objects of its own. The library refuses to work against a catalog older
-- than kCatalogVersionNeeded (src/pg/catalog_version.cpp, "0.2.0"): when C
-- code starts to depend on what a later script adds, raise it to that
-- script's version in the same change.

------------------------------------------------------------------------------
-- 4. Services (worker template, geocoder, ...)
------------------------------------------------------------------------------
