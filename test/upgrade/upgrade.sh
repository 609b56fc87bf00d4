#!/usr/bin/env bash
# The upgrade path from the released 0.1.0, as a DBA lives it:
#   1. the 0.1.0 library (built from the release commit in git) ingests real
#      files into a database created at 0.1.0;
#   2. the new library is installed and the server restarted: the catalog is
#      still 0.1.0, so the workers wait with ONE warning and write nothing,
#      the SQL functions that need 0.2.0 refuse with a hint, and the
#      dashboard serves a page saying so (503; /metrics: catalog not ready);
#   3. bad input: an unknown version, an update script that fails half-way
#      (a test-only copy with an injected error) -- the database is unchanged;
#   4. ALTER EXTENSION photofactory UPDATE while the workers run: every row
#      survives (counts + checksums of each table, in the update's own
#      transaction), the workers resume without a restart (same PIDs; files
#      dropped before and after are ingested; fresh status rows; the
#      dashboard's pages work), and a downgrade is refused;
#   5. the upgraded schema equals a fresh CREATE EXTENSION in database B.
#      The two took different paths: B ran photofactory--0.2.0.sql, built by
#      make from sql/install/*.sql; A ran 0.1.0's script and then the update
#      script. Compared: every object with its definition (column order,
#      dropped columns, function bodies and argument names, triggers,
#      sequences), owner, ACL and initial privileges, comment and extension
#      membership (pg_dump --binary-upgrade --schema-only), and pg_extension's
#      extconfig/extcondition (the pg_dump marks). docs/schema.md, "Changing
#      the schema", lists what the comparison leaves out and why.
# Own cluster; installs the 0.1.0 library for a while, so run it under the
# install lock like every suite; the working tree's build is installed again
# on exit, whatever happens.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PF_TEST_RUN=$(mktemp -d /tmp/photofactory-upgrade.XXXXXX)
export PF_TEST_RUN
export PF_TEST_DB=pfa
# shellcheck source=test/e2e/lib/assert.sh
source "$here/../e2e/lib/assert.sh"   # ok/is/wait_for/sql against $PF_TEST_RUN, database $PF_TEST_DB
run=$PF_TEST_RUN
port=${PF_UPGRADE_PORT:-54370}
dport=${PF_UPGRADE_DASHBOARD_PORT:-$((41000 + port % 1000))}
dash=http://127.0.0.1:$dport
extdir=$(pg_config --sharedir)/extension
failing_script=$extdir/photofactory--0.1.0--0.1.99-failtest.sql

cleanup() {
  pf_cluster_stop "$run"
  rm -f "$failing_script"
  if [ "$pf_fail" -gt 0 ] && [ -f "$run/log/server.log" ]; then
    echo "# server log (last 60 lines)"; tail -60 "$run/log/server.log"
  fi
  # Whatever happened, the working tree's build is what stays installed.
  make -C "$root" -s install >/dev/null || echo "not ok - reinstalling the working tree's build failed"
  rm -rf "$run"
}
trap cleanup EXIT

# --- the released 0.1.0 -------------------------------------------------------
# Its commit is the parent of the one that started the 0.1.0--0.2.0 script.
first=$(git -C "$root" log --diff-filter=A --format=%H -- sql/photofactory--0.1.0--0.2.0.sql 2>/dev/null | tail -1)
if [ -z "$first" ] || ! rel=$(git -C "$root" rev-parse --verify -q "$first^"); then
  echo "not ok - the 0.1.0 release commit is not in git history (a shallow clone?); fetch full history"
  exit 1
fi
is "$(git -C "$root" show "$rel:photofactory.control" | grep -c "default_version = '0.1.0'")" 1 \
  "release commit ${rel:0:10} is 0.1.0"
ok "sql/photofactory--0.1.0.sql is byte for byte the released one (never edit a released script)" \
  cmp -s <(git -C "$root" show "$rel:sql/photofactory--0.1.0.sql") "$root/sql/photofactory--0.1.0.sql"

old=${PF_UPGRADE_CACHE:-/tmp/photofactory-release-0.1.0}/$rel
if [ ! -f "$old/photofactory.so" ]; then
  echo "# building the 0.1.0 library from ${rel:0:10}"
  if ! { rm -rf "$old.tmp" && mkdir -p "$old.tmp" &&
         git -C "$root" archive "$rel" | tar -x -C "$old.tmp" &&
         make -C "$old.tmp" -s -j2 >/dev/null 2>"$run/old-build.log" &&
         rm -rf "$old" && mv "$old.tmp" "$old"; }; then
    cat "$run/old-build.log"; echo "not ok - building 0.1.0"; exit 1
  fi
fi
make -C "$old" -s install >/dev/null || { echo "not ok - installing 0.1.0"; exit 1; }

mkdir -p "$run/inbox" "$run/storage"
pf_cluster_init "$run" "$port" "$(pf_server_conf pfa "$run/inbox" "$run/storage")
photofactory.heartbeat_interval = '1s'
photofactory.librarian_workers = 2
photofactory.default_timezone = 'Europe/Paris'
photofactory.dashboard_listen = '127.0.0.1:$dport'
shared_preload_libraries = 'photofactory'" || exit 1
pf_own "$run"
pf_cluster_start "$run" || exit 1
pf_psql "$run" -d postgres -q -c "CREATE DATABASE pfa" -c "CREATE DATABASE pfb" -c "CREATE DATABASE scratch" || exit 1
sql "CREATE EXTENSION photofactory VERSION '0.1.0'"
is "$(sql "SELECT extversion FROM pg_extension WHERE extname = 'photofactory'")" "0.1.0" "database A created at 0.1.0"

# Real files, ingested by the 0.1.0 workers; then the other tables get rows too.
bash "$root/scripts/lib/sample-inbox.sh" "$run/stage"
pf_own "$run/stage"
mv "$run/stage"/* "$inbox"/
sql "SELECT photofactory.ingest_now()" >/dev/null
inbox_done() { [ -z "$(find "$inbox" -type f ! -name '.*' ! -name '*.tmp' -print -quit)" ]; }
ok "0.1.0 workers empty the inbox" wait_for 90 inbox_done
vrun=$(sql "SELECT photofactory.start_verification()")
ok "0.1.0 verification run finishes" wait_for 60 sql_is "SELECT status FROM photofactory.verification_runs WHERE id = $vrun" 'done'
sql "SELECT photofactory.mark_geocoded(id) FROM photofactory.media_assets ORDER BY id LIMIT 1;
     SELECT photofactory.record_error(id, 'upgrade test') FROM photofactory.media_assets ORDER BY id DESC LIMIT 1" >/dev/null
assets_before=$(sql "SELECT count(*) FROM photofactory.media_assets")
ok "0.1.0 ingested assets ($assets_before)" test "$assets_before" -ge 8

# --- new library, old catalog ----------------------------------------------------
pf_cluster_stop "$run"
make -C "$root" -s install >/dev/null || { echo "not ok - installing the working tree"; exit 1; }
: >"$run/log/server.log"
pf_cluster_start "$run" || exit 1
# Every worker of the database (factory-db, both librarians, and whatever
# service a later version adds), not the supervisor.
workers="backend_type LIKE 'photofactory %' AND backend_type <> 'photofactory supervisor'"
waiting() {
  sql_is "SELECT count(*) FILTER (WHERE query <> 'waiting for ALTER EXTENSION photofactory UPDATE (catalog 0.1.0, library needs 0.2.0)')
                 || ' ' || (count(*) >= 3) FROM pg_stat_activity WHERE $workers" "0 true"
}
ok "new library on a 0.1.0 catalog: every worker (factory-db, both librarians, ...) waits for the update" wait_for 30 waiting
nworkers=$(sql "SELECT count(*) FROM pg_stat_activity WHERE $workers")
is "$(grep -c 'WARNING:  photofactory: database "pfa" has the photofactory catalog at version 0.1.0, but this library needs 0.2.0' "$run/log/server.log")" 1 \
  "exactly one WARNING names the versions"
is "$(grep -c 'HINT:  Run ALTER EXTENSION photofactory UPDATE in database "pfa"' "$run/log/server.log")" 1 "with the fix as its HINT"

# The row snapshot: per table of the 0.1.0 catalog, its count and a checksum of
# its 0.1.0 columns in a fixed order; sequences by their state.
sql "SELECT format('SELECT %L, count(*), md5(coalesce(string_agg(r, E''\n'' ORDER BY r), '''')) FROM (SELECT ROW(%s)::text AS r FROM photofactory.%I) s;',
                   c.relname, string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum), c.relname)
     FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE c.relnamespace = 'photofactory'::regnamespace AND c.relkind IN ('r', 'p')
     GROUP BY c.relname ORDER BY c.relname;
     SELECT format('SELECT %L, last_value, is_called FROM photofactory.%I;', c.relname, c.relname)
     FROM pg_class c WHERE c.relnamespace = 'photofactory'::regnamespace AND c.relkind = 'S' ORDER BY c.relname" >"$run/snapshot.sql"
snapshot() { pf_psql "$run" -d pfa -A -t -q -v ON_ERROR_STOP=1 -F ' ' -f - <"$run/snapshot.sql"; }
snapshot >"$run/rows-0.1.0"
echo "# rows at 0.1.0:"; sed 's/^/#   /' "$run/rows-0.1.0"
for t in media_assets inbox_events system_status system_status_history asset_integrity verification_runs; do
  ok "table $t has rows to carry over" grep -Eq "^$t [1-9]" "$run/rows-0.1.0"
done

# A file dropped now must wait for the update, not be lost.
convert -size 50x40 xc:olive "$run/late1.jpg" && exiftool -q -overwrite_original -DateTimeOriginal='2024:01:02 03:04:05' "$run/late1.jpg"
touch -d '-1 minute' "$run/late1.jpg" && pf_own "$run/late1.jpg" && mv "$run/late1.jpg" "$inbox/"
err=$(sql "SELECT photofactory.ingest_file('$inbox/late1.jpg')" 2>&1)
ok "ingest_file() on the old catalog: clear error" grep -q 'ERROR:  photofactory.ingest_file() needs the photofactory 0.2.0 catalog, but this database has version 0.1.0' <<<"$err"
ok "... with the fix as its HINT" grep -q 'HINT:  Run ALTER EXTENSION photofactory UPDATE.' <<<"$err"
err=$(sql "SELECT photofactory.ingest_now()" 2>&1)
ok "ingest_now() on the old catalog: clear error" grep -q 'needs the photofactory 0.2.0 catalog' <<<"$err"
# Every worker polls the catalog again (each poll re-reports its activity,
# moving state_change) before we look: nothing written, nothing moved.
librarians_logged() { [ "$(grep -c 'photofactory librarian [0-9]: waiting for ALTER EXTENSION photofactory UPDATE' "$run/log/server.log")" -eq 2 ]; }
ok "both librarians logged their wait" wait_for 30 librarians_logged
polled_at=$(sql "SELECT clock_timestamp()")
polled_again() {
  sql_is "SELECT count(*) FROM pg_stat_activity WHERE $workers AND state_change > '$polled_at'::timestamptz" "$nworkers"
}
ok "every worker polled the old catalog again" wait_for 30 polled_again
ok "no writes while the catalog is old (every checksum unchanged)" cmp -s "$run/rows-0.1.0" <(snapshot)
ok "the file dropped before the update waits in the inbox" test -f "$inbox/late1.jpg"

# The dashboard waits like the others, and says so to whoever opens it.
reason='waiting for ALTER EXTENSION photofactory UPDATE (catalog 0.1.0, library needs 0.2.0)'
dash_get() {  # dash_get PATH -> $run/dash.body, $run/dash.head; prints the HTTP status
  curl -s -m 10 -D "$run/dash.head" -o "$run/dash.body" -w '%{http_code}' "$dash$1"
}
dash_serves() { [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$dash/static/style.css")" = 200 ]; }
ok "the dashboard listens on the old catalog" wait_for 30 dash_serves
for path in / /factory /recent /asset/0b6f4a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b; do
  is "$(dash_get "$path")" 503 "dashboard $path on the old catalog: 503"
  ok "... saying why: $reason" grep -qF "$reason" "$run/dash.body"
  ok "... and what fixes it" grep -qF '<code>ALTER EXTENSION photofactory UPDATE;</code>' "$run/dash.body"
  ok "... with Retry-After" grep -qi '^Retry-After: 10' "$run/dash.head"
done
is "$(dash_get /metrics)" 200 "/metrics on the old catalog still answers (200)"
ok "... photofactory_catalog_ready 0" grep -qx 'photofactory_catalog_ready 0' "$run/dash.body"
ok "... with the reason as a label" grep -qF "photofactory_catalog_waiting{reason=\"$reason\"} 1" "$run/dash.body"
is "$(dash_get /api/status)" 503 "/api/status on the old catalog: 503"
is "$(perl -MJSON::PP -0 -ne 'my $j = decode_json($_); print $j->{catalog}{ready} ? "ready" : "waiting", ": $j->{catalog}{reason}"' "$run/dash.body")" \
  "waiting: $reason" "... JSON: catalog not ready, with the reason"
ok "the dashboard logged its wait" grep -qF "photofactory dashboard: $reason in database \"pfa\"" "$run/log/server.log"
ok "its requests wrote nothing either (every checksum unchanged)" cmp -s "$run/rows-0.1.0" <(snapshot)

# --- bad input -------------------------------------------------------------------------
# The extension's objects with definitions, ACLs and comments. Left out: OIDs,
# xids and sequence positions (data, compared by the row snapshot).
dump_schema() {
  pf_as_owner "$PF_PGBIN/pg_dump" -h "$run/sock" -p "$port" -U postgres --schema-only --binary-upgrade -d "$1" |
    grep -v -e '^SELECT pg_catalog.binary_upgrade_set_next_' -e '^-- Dumped' -e 'binary_upgrade_create_empty_extension' \
      -e '^\\restrict' -e '^\\unrestrict' -e 'relfrozenxid' -e '^SELECT pg_catalog.setval(' -e "^WHERE oid = '[0-9]*';\$" | sed -e "s/\b$1\b/DB/g"
  # The marks as a set: their order in extconfig means nothing to pg_dump.
  pf_psql "$run" -d "$1" -A -t -q -c "SELECT e.extname, e.extversion, e.extrelocatable, c.relname, x.cond
    FROM pg_extension e LEFT JOIN LATERAL unnest(e.extconfig, e.extcondition) AS x(cfg, cond) ON true
    LEFT JOIN pg_class c ON c.oid = x.cfg WHERE e.extname = 'photofactory' ORDER BY c.relname"
}
dump_schema pfa >"$run/schema-0.1.0"
ok "the schema dump lists extension members" grep -q 'ALTER EXTENSION photofactory ADD TABLE photofactory.media_assets' "$run/schema-0.1.0"

err=$(sql "ALTER EXTENSION photofactory UPDATE TO '0.0.9'" 2>&1)
ok "update to an unknown version: clear error" grep -q 'ERROR:  extension "photofactory" has no update path from version "0.1.0" to version "0.0.9"' <<<"$err"
err=$(PF_TEST_DB=scratch sql "CREATE EXTENSION photofactory VERSION '0.0.9'" 2>&1)
ok "install of an unknown version: clear error" grep -q 'ERROR:  extension "photofactory" has no installation script nor update path for version "0.0.9"' <<<"$err"

# An update script that fails after doing work: the real 0.1.0--0.2.0 script,
# then a new table, then an error, installed under a test-only version name.
{ cat "$root/sql/photofactory--0.1.0--0.2.0.sql"
  echo "CREATE TABLE photofactory.upgrade_test_half_done (i integer);"
  echo "SELECT 1 / 0;"; } >"$failing_script"
err=$(sql "ALTER EXTENSION photofactory UPDATE TO '0.1.99-failtest'" 2>&1)
rm -f "$failing_script"
ok "a failing update script stops with its error" grep -q 'ERROR:  division by zero' <<<"$err"
is "$(sql "SELECT extversion FROM pg_extension WHERE extname = 'photofactory'")" "0.1.0" "... the extension is still at 0.1.0"
is "$(sql "SELECT to_regclass('photofactory.upgrade_test_half_done') IS NULL")" "t" "... no object of the failed script remains"
ok "... the schema is exactly as before" cmp -s "$run/schema-0.1.0" <(dump_schema pfa)
ok "... every row is as before" cmp -s "$run/rows-0.1.0" <(snapshot)

# --- the update, with the workers running ------------------------------------------
pids_before=$(sql "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE backend_type LIKE 'photofactory %'")
updated_at=$(sql "SELECT clock_timestamp()")
pf_psql "$run" -d pfa -A -t -q -v ON_ERROR_STOP=1 -F ' ' -c "BEGIN" -c "ALTER EXTENSION photofactory UPDATE" \
  -f "$run/snapshot.sql" -c "COMMIT" >"$run/rows-updated" 2>"$run/update.err"
ok "ALTER EXTENSION photofactory UPDATE succeeds" test ! -s "$run/update.err"
[ -s "$run/update.err" ] && cat "$run/update.err"
is "$(sql "SELECT extversion FROM pg_extension WHERE extname = 'photofactory'")" "0.2.0" "database A is at 0.2.0"
ok "every row of every 0.1.0 table survives the update (counts + checksums, same transaction)" \
  cmp "$run/rows-0.1.0" "$run/rows-updated"
ingested() { sql_is "SELECT count(*) FROM photofactory.media_assets WHERE original_path = '$inbox/$1'" 1; }
ok "workers resume without a restart: the file dropped before the update is ingested" wait_for 60 ingested late1.jpg
convert -size 50x40 xc:navy "$run/late2.jpg" && touch -d '-1 minute' "$run/late2.jpg" && pf_own "$run/late2.jpg" &&
  mv "$run/late2.jpg" "$inbox/"
sql "SELECT photofactory.ingest_now()" >/dev/null
ok "a file dropped after the update is ingested" wait_for 60 ingested late2.jpg
fresh() {
  sql_is "SELECT count(*) FROM photofactory.system_status WHERE service_name IN ('librarian', 'factory-db', 'dashboard')
          AND last_heartbeat > '$updated_at'::timestamptz" 3
}
ok "librarian, factory-db and dashboard status rows are fresh after the update" wait_for 30 fresh
is "$(sql "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE backend_type LIKE 'photofactory %'")" \
  "$pids_before" "the same worker processes (no restart)"
ok "each worker logged that it resumed" test "$(grep -c 'catalog updated to 0.2.0, resuming' "$run/log/server.log")" -eq "$nworkers"
for path in / /factory /recent; do
  is "$(dash_get "$path")" 200 "dashboard $path after the update: 200, same worker"
  ok "... not the waiting page" bash -c "! grep -qF 'Waiting for the database' '$run/dash.body'"
done
ok "the health page lists the services" grep -q 'factory-db' <(curl -s -m 10 "$dash/")
is "$(dash_get /metrics)" 200 "/metrics after the update"
ok "... photofactory_catalog_ready 1" grep -qx 'photofactory_catalog_ready 1' "$run/dash.body"
ok "... and the services" grep -q '^photofactory_service_up{service="librarian"}' "$run/dash.body"
is "$(dash_get /api/status)" 200 "/api/status after the update: 200"
is "$(sql "SELECT count(*) FROM photofactory.media_assets")" "$((assets_before + 2))" "ledger: every asset of 0.1.0 plus the two new ones"

err=$(sql "ALTER EXTENSION photofactory UPDATE TO '0.1.0'" 2>&1)
ok "downgrade: clear error" grep -q 'ERROR:  extension "photofactory" has no update path from version "0.2.0" to version "0.1.0"' <<<"$err"
is "$(sql "SELECT extversion FROM pg_extension WHERE extname = 'photofactory'")" "0.2.0" "... still at 0.2.0"

# --- upgraded == fresh ------------------------------------------------------------------
# A fresh install runs the full script of 0.2.0 (PostgreSQL prefers a direct
# script to an update path), which make builds from sql/install/*.sql.
ok "make installed photofactory--0.2.0.sql, built from the sql/install parts" \
  cmp -s "$extdir/photofactory--0.2.0.sql" <(cat "$root"/sql/install/*.sql)
# The pg_cron job is no catalog object of ours (the cluster here has no
# pg_cron; test/pgtap/04_cron.sql checks the job of a fresh install): both
# paths set it up with 0.1.0's DO block, and the update leaves it alone.
ok "the pg_cron job is set up by 0.1.0's block, unchanged in the parts" \
  cmp -s <(sed -n '/^DO \$cron\$/,/^\$cron\$;/p' "$root/sql/photofactory--0.1.0.sql") \
         <(sed -n '/^DO \$cron\$/,/^\$cron\$;/p' "$root"/sql/install/*.sql)
ok "... and the update script does not reschedule it" bash -c "! grep -q 'cron\.' '$root/sql/photofactory--0.1.0--0.2.0.sql'"
PF_TEST_DB=pfb sql "CREATE EXTENSION photofactory"
is "$(PF_TEST_DB=pfb sql "SELECT extversion FROM pg_extension WHERE extname = 'photofactory'")" "0.2.0" "database B: a fresh CREATE EXTENSION gives 0.2.0"
dump_schema pfa >"$run/schema-upgraded"
dump_schema pfb >"$run/schema-fresh"
if diff -u "$run/schema-fresh" "$run/schema-upgraded" >"$run/schema.diff"; then
  ok "upgraded schema equals a fresh install (objects, definitions, ACLs, comments, extconfig)" true
else
  ok "upgraded schema equals a fresh install (objects, definitions, ACLs, comments, extconfig)" false
  head -80 "$run/schema.diff"
fi
ok "the comparison covers function bodies" grep -q 'CREATE FUNCTION photofactory.heartbeat' "$run/schema-fresh"
ok "... grants" grep -q '^GRANT ' "$run/schema-fresh"
ok "... comments" grep -q '^COMMENT ON ' "$run/schema-fresh"
ok "... triggers" grep -q '^CREATE TRIGGER ' "$run/schema-fresh"
ok "... extension membership" grep -q '^ALTER EXTENSION photofactory ADD FUNCTION photofactory.heartbeat' "$run/schema-fresh"
ok "... initial privileges (what DROP/CREATE EXTENSION restores)" grep -q 'binary_upgrade_set_record_init_privs(true)' "$run/schema-fresh"
ok "... argument names" grep -q 'FUNCTION photofactory.pending_geocoding(max_rows integer' "$run/schema-fresh"
ok "... the pg_dump marks (22 or more)" test "$(grep -c "^photofactory|0.2.0|f|" "$run/schema-fresh")" -ge 22
pf_summary
