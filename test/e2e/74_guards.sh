#!/usr/bin/env bash
# End to end, issue #10: a second database with the extension must not act on
# the library (item 6); DROP EXTENSION must not silently delete the ledger
# (item 13).
source "$(dirname "$0")/lib/assert.sh"

port=$(cat "$PF_TEST_RUN/port")
other() { pf_psql "$PF_TEST_RUN" -d pfother -X -A -t -q "$@"; }

# --- item 6: a second database ------------------------------------------------
sql "CREATE DATABASE pfother" >/dev/null
out=$(other -c "CREATE EXTENSION photofactory" 2>&1)
ok "CREATE EXTENSION outside photofactory.database warns" grep -q "this database is not photofactory.database" <<<"$out"
orphan=$(find "$storage/Originals" -type f -name '*.jpg' | head -1)
states=$(other <<SQL
CREATE FUNCTION pg_temp.state(q text) RETURNS text LANGUAGE plpgsql AS \$\$
BEGIN EXECUTE q; RETURN 'no error'; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE; END \$\$;
SELECT f || ' ' || pg_temp.state('SELECT * FROM ' || f) FROM unnest(ARRAY[
  'photofactory.ingest_now()',
  'photofactory.ingest_file(''$inbox/none.jpg'')',
  'photofactory.inbox_report()',
  'photofactory.reconcile()',
  'photofactory.adopt_orphan(''$orphan'')',
  'photofactory.adopt_orphans()',
  'photofactory.verify_assets()',
  'photofactory.start_verification()']) AS f;
SQL
)
is "$states" "photofactory.ingest_now() 55000
photofactory.ingest_file('$inbox/none.jpg') 55000
photofactory.inbox_report() 55000
photofactory.reconcile() 55000
photofactory.adopt_orphan('$orphan') 55000
photofactory.adopt_orphans() 55000
photofactory.verify_assets() 55000
photofactory.start_verification() 55000" "every function acting on the library raises 55000 in another database"
err=$(other -c "SET ROLE photofactory_operator" -c "SELECT photofactory.inspect_file('$inbox/none.jpg')" 2>&1)
ok "inspect_file: an operator of another database may not look at the library (55000)" \
  grep -q "belongs to another database\|not available in database" <<<"$err"
is "$(other -c "SELECT count(*) FROM photofactory.media_assets")" "0" "the other database's ledger stays empty"
ok "the library database still works" test "$(sql "SELECT photofactory.ingest_now()")" -ge 1

# --- item 13: DROP EXTENSION and the ledger -----------------------------------
assets=$(sql "SELECT count(*) FROM photofactory.media_assets")
err=$(sql "DROP EXTENSION photofactory" 2>&1)
ok "DROP EXTENSION is refused while the ledger holds rows" grep -q "cannot drop photofactory: its ledger records" <<<"$err"
err=$(sql "DROP SCHEMA photofactory CASCADE" 2>&1)
ok "so is DROP SCHEMA photofactory CASCADE" grep -q "cannot drop photofactory" <<<"$err"
is "$(sql "SELECT count(*) FROM photofactory.media_assets")" "$assets" "the ledger is intact"
other -c "INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes)
          VALUES (repeat('ab', 32), 'x.jpg', '/x/x.jpg', '/y/x.jpg', 1)" >/dev/null
sql "CREATE ROLE pf_dropper LOGIN" >/dev/null
err=$(pf_as_owner psql -X -h "$PF_TEST_RUN/sock" -p "$port" -U pf_dropper -d pfother -c "SET photofactory.allow_drop_with_ledger = on" 2>&1)
ok "only a superuser may set photofactory.allow_drop_with_ledger" grep -q "permission denied" <<<"$err"
sql "DROP ROLE pf_dropper" >/dev/null
err=$(other -c "DROP EXTENSION photofactory" 2>&1)
ok "DROP EXTENSION refused in any database with a ledger" grep -q "its ledger records 1 files" <<<"$err"
out=$(other -c "SET photofactory.allow_drop_with_ledger = on" -c "DROP EXTENSION photofactory" 2>&1)
ok "allowed explicitly, DROP EXTENSION goes through with a warning" grep -q "deletes its ledger of 1 files" <<<"$out"
is "$(other -c "SELECT count(*) FROM pg_extension WHERE extname = 'photofactory'")" "0" "the extension is gone there"
sql "DROP DATABASE pfother" >/dev/null

pf_summary
