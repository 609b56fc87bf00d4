#!/usr/bin/env bash
# pg_dump / pg_restore round trip of a photofactory database into a fresh
# cluster (issue #10, item 4), then a ledger rebuilt from the library alone
# (item 13, adopt_orphans). Own clusters, one after the other on one port:
#  A  ingests a small library (duplicates, a sidecar, a reject), verifies it,
#     and is dumped with pg_dump -Fc, then stopped and deleted;
#  B  is a new cluster on the same inbox and storage (the disaster-recovery
#     case: the database is lost, the library is not), restored with
#     pg_restore while ingestion is off; every ledger row must be back byte for
#     byte, and with ingestion on, the workers go on from the restored ledger:
#     nothing re-ingested or doubled, new files numbered after the old ones.
#  Then the ledger is dropped on purpose and rebuilt with adopt_orphans().
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/scripts/lib/common.sh"

port=${PF_RESTORE_PORT:-54336}
work=$(mktemp -d /tmp/photofactory-restore.XXXXXX)
chmod 755 "$work"
inbox=$work/inbox storage=$work/storage run=$work/a
mkdir -p "$inbox" "$storage" "$work/dump"
pf_own "$inbox" "$storage" "$work/dump"
db=pfr
pass=0 fail=0
ok() { local d=$1; shift; if "$@" >/dev/null 2>&1; then pass=$((pass + 1)); echo "ok - $d"; else fail=$((fail + 1)); echo "not ok - $d"; fi; }
is() { if [ "$1" == "$2" ]; then pass=$((pass + 1)); echo "ok - $3"; else fail=$((fail + 1)); echo "not ok - $3"; echo "#   got:      '$1'"; echo "#   expected: '$2'"; fi; }
sql() { pf_psql "$run" -d "$db" -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"; }
sql_is() { [ "$(sql "$1")" = "$2" ]; }
wait_for() { local limit=$1; shift; local t=0; while ! "$@" >/dev/null 2>&1; do t=$((t + 1)); [ "$t" -gt $((limit * 5)) ] && return 1; sleep 0.2; done; }
cleanup() {
  pf_cluster_stop "$work/a"; pf_cluster_stop "$work/b"
  if [ "$fail" -gt 0 ]; then for l in "$work"/[ab]/log/server.log; do [ -f "$l" ] && { echo "== $l"; tail -30 "$l"; }; done; fi
  rm -rf "$work"
}
trap cleanup EXIT

cluster() {  # cluster DIR INGEST_ENABLED
  run=$1
  pf_cluster_init "$run" "$port" "$(pf_server_conf "$db" "$inbox" "$storage")
photofactory.heartbeat_interval = '1s'
photofactory.settle_time = '0'
photofactory.scan_interval = '1s'
photofactory.librarian_workers = 2
photofactory.ingest_enabled = $2" >/dev/null || return 1
  pf_own "$run"
  pf_cluster_start "$run"
}
# ledger_digest: every ledger table's rows, as text, hashed per table.
ledger_digest() {
  local t out=""
  for t in media_assets asset_sidecars inbox_events asset_integrity verification_runs; do
    out+="$t=$(sql "SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '')
                    FROM photofactory.$t x") "
  done
  echo "$out"
}

# --- A: ingest, verify, dump -------------------------------------------------
cluster "$work/a" on || exit 1
pf_psql "$run" -q -d postgres -c "CREATE DATABASE $db" >/dev/null
sql "CREATE EXTENSION pg_cron" >/dev/null
sql "SET client_min_messages = error; CREATE EXTENSION photofactory" >/dev/null || exit 1
mkdir -p "$inbox/phone"
for i in 1 2 3 4 5 6; do convert -size 24x16 "xc:rgb($((i * 40)),20,90)" "$inbox/phone/IMG_2021010${i}_101010.jpg"; done
cp "$inbox/phone/IMG_20210101_101010.jpg" "$inbox/phone/again.jpg"
printf '<x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>\n' >"$inbox/phone/IMG_20210102_101010.xmp"
printf 'not a photo' >"$inbox/phone/notes.jpg"
pf_own "$inbox/phone"
ok "A: the inbox is ingested" wait_for 60 sql_is "SELECT count(*) FROM photofactory.inbox_events" 9
sql "UPDATE photofactory.media_assets SET is_geocoded = true
      WHERE original_name = 'IMG_20210103_101010.jpg'" >/dev/null
v=$(sql "SELECT photofactory.start_verification()")
ok "A: a verification run finishes" wait_for 60 sql_is "SELECT status FROM photofactory.verification_runs WHERE id = $v" done
before=$(ledger_digest)
assets=$(sql "SELECT count(*) FROM photofactory.media_assets")
events_max=$(sql "SELECT max(id) FROM photofactory.inbox_events")
history=$(sql "SELECT count(*) FROM photofactory.system_status_history")
pf_as_owner pg_dump -h "$run/sock" -p "$port" -U postgres -Fc -d "$db" -f "$work/dump/pfr.dump"
ok "A: pg_dump -Fc succeeds" test -s "$work/dump/pfr.dump"
pf_cluster_stop "$run"
rm -rf "$work/a"

# --- B: a fresh cluster on the same library, restored ------------------------
cluster "$work/b" off || exit 1
pf_psql "$run" -q -d postgres -c "CREATE DATABASE $db" >/dev/null
# pg_cron dumps its own job table; CREATE EXTENSION photofactory schedules
# the retention job again while restoring, so pg_cron's rows are left out
# (they would collide with it on jobid).
pf_as_owner pg_restore -l "$work/dump/pfr.dump" | grep -v ' TABLE DATA cron job ' >"$work/dump/restore.list"
out=$(pf_as_owner pg_restore -h "$run/sock" -p "$port" -U postgres --single-transaction --exit-on-error \
        -L "$work/dump/restore.list" -d "$db" "$work/dump/pfr.dump" 2>&1)
is "$out" "" "B: pg_restore into the fresh cluster succeeds, without errors"
is "$(ledger_digest)" "$before" "B: every ledger row is back, byte for byte (timestamps too)"
# (curation: a flag with no file behind it, unlike thumbnails, which reconcile checks)
is "$(sql "UPDATE photofactory.media_assets SET is_curated = true, curated_at = '2000-01-01'
            WHERE original_name = 'IMG_20210104_101010.jpg'
           RETURNING curated_at > '2001-01-01' AND updated_at > ingested_at")" "t" \
  "B: outside a restore, the guard trigger still sets the server-side times"
ok "B: the heartbeat history is back" test "$(sql "SELECT count(*) FROM photofactory.system_status_history")" -ge "$history"

# Ingestion on: the librarians resume on the restored ledger.
pf_as_owner tee -a "$run/data/postgresql.conf" >/dev/null <<<"photofactory.ingest_enabled = on"
sql "SELECT pg_reload_conf()" >/dev/null
ok "B: the librarians run and report OK" wait_for 30 sql_is \
  "SELECT status FROM photofactory.system_status WHERE service_name = 'librarian' AND current_task NOT LIKE 'Paused%'" OK
convert -size 24x16 xc:gold "$inbox/phone/IMG_20210109_101010.jpg"; pf_own "$inbox/phone"
ok "B: a new file is ingested" wait_for 30 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_name = 'IMG_20210109_101010.jpg'" 1
is "$(sql "SELECT min(id) > $events_max FROM photofactory.inbox_events WHERE original_name = 'IMG_20210109_101010.jpg'")" "t" \
  "B: its event is numbered after the restored ones"
is "$(sql "SELECT count(*) FROM photofactory.media_assets")" "$((assets + 1))" "B: nothing was re-ingested (one new asset)"
is "$(sql "SELECT count(*) FROM photofactory.inbox_events")" "10" "B: one new event, no duplicates of the old files"
is "$(find "$storage/Duplicates" -type f | wc -l)" "1" "B: Duplicates/ holds only the one duplicate of A"
v=$(sql "SELECT photofactory.start_verification()")
ok "B: a verification run on the restored ledger finishes" wait_for 60 sql_is \
  "SELECT status FROM photofactory.verification_runs WHERE id = $v" done
is "$(sql "SELECT checked || ' ' || problems FROM photofactory.verification_runs WHERE id = $v")" "$((assets + 1)) 0" \
  "B: the restored ledger matches the library"
problems=$(sql "SELECT count(*) FROM photofactory.reconcile()")
is "$problems" "0" "B: reconcile finds nothing to fix"
[ "$problems" = 0 ] || sql "SELECT row_to_json(r) FROM photofactory.reconcile() r" | sed 's/^/#   /'

# --- The ledger lost on purpose, rebuilt from the library ---------------------
err=$(sql "DROP EXTENSION photofactory" 2>&1)
ok "DROP EXTENSION is refused while the ledger holds rows" grep -q "its ledger records" <<<"$err"
is "$(sql "SELECT count(*) FROM photofactory.media_assets")" "$((assets + 1))" "the refused DROP left the ledger intact"
pf_as_owner tee -a "$run/data/postgresql.conf" >/dev/null <<<"photofactory.ingest_enabled = off"
sql "SELECT pg_reload_conf()" >/dev/null
ok "DROP EXTENSION with photofactory.allow_drop_with_ledger" \
  sql "SET photofactory.allow_drop_with_ledger = on; DROP EXTENSION photofactory"
sql "SET client_min_messages = error; CREATE EXTENSION photofactory" >/dev/null
# A file that cannot be adopted sits among the orphans: it is reported, the rest adopted.
broken=$storage/Originals/2021/2021-01-05/broken.jpg
mkdir -p "$(dirname "$broken")"; printf 'not a jpeg at all' >"$broken"; pf_own "$storage/Originals"
cp "$storage/Originals/2021/2021-01-06/IMG_20210106_101010.jpg" "$storage/Originals/2021/2021-01-06/IMG_copy.jpg"
pf_own "$storage/Originals"
report=$(sql "SELECT outcome, count(*) FROM photofactory.adopt_orphans() GROUP BY 1 ORDER BY 1")
is "$report" "adopted|$((assets + 1))
skipped|3" "adopt_orphans adopts every media file and reports the rest (sidecar, duplicate, broken file)"
is "$(sql "SELECT count(*) FROM photofactory.reconcile() WHERE problem = 'missing_file'")" "0" \
  "the rebuilt ledger has no missing files"
is "$(sql "SELECT string_agg(regexp_replace(path, '^.*/', '') || ':' || outcome, ' ' ORDER BY regexp_replace(path, '^.*/', ''))
           FROM photofactory.adopt_orphans()")" \
  "IMG_20210102_101010.xmp:skipped IMG_copy.jpg:skipped broken.jpg:skipped" "a second call reports only what was skipped"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
