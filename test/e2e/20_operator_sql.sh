#!/usr/bin/env bash
# End to end: the operator's SQL — inbox_report() while ingestion is paused,
# ingest_file() for one file, ingest_now(), and a SIGHUP move of the inbox.
source "$(dirname "$0")/lib/assert.sh"

reload() { sql "SELECT pg_reload_conf()" >/dev/null; sleep 1.5; }
set_conf() { sql "ALTER SYSTEM SET $1 = '$2'" >/dev/null; }

# Paused: nothing moves, the report says why each file waits.
set_conf photofactory.ingest_enabled off; reload
ok "librarian reports the pause" wait_for 10 sql_is "SELECT bool_and(current_task LIKE '%Paused: photofactory.ingest_enabled%') FROM photofactory.system_status WHERE service_name = 'librarian'" t

mkdir -p "$inbox/ops"
convert -size 30x20 xc:khaki "$inbox/ops/IMG_20190101_120000.jpg"
touch -d '-1 minute' "$inbox/ops/IMG_20190101_120000.jpg"
printf 'not a photo' >"$inbox/ops/readme.jpg"; touch -d '-1 minute' "$inbox/ops/readme.jpg"
printf 'partial' >"$inbox/ops/~syncthing~IMG_5.JPG.tmp"
pf_own "$inbox/ops"
sleep 1.5   # chown changed their ctime: let them settle again
convert -size 30x20 xc:salmon "$inbox/ops/fresh.jpg"; chown postgres: "$inbox/ops/fresh.jpg" 2>/dev/null
report=$(sql "SELECT path || '=' || state FROM photofactory.inbox_report() WHERE path LIKE 'ops/%' ORDER BY path")
is "$report" "ops/IMG_20190101_120000.jpg=ready
ops/fresh.jpg=settling
ops/readme.jpg=unsupported
ops/~syncthing~IMG_5.JPG.tmp=temporary" "inbox_report: ready, settling, unsupported, temporary"
sleep 3
ok "nothing is ingested while paused" test -f "$inbox/ops/IMG_20190101_120000.jpg"

# ingest_file: one file, now, through a librarian, even while paused.
row=$(sql "SELECT outcome || '|' || replace(stored_path, '$storage/', '') || '|' || (asset_id IS NOT NULL)
             FROM photofactory.ingest_file('$inbox/ops/IMG_20190101_120000.jpg')")
is "$row" "ingested|Originals/2019/2019-01-01/IMG_20190101_120000.jpg|true" "ingest_file ingests one file and says where it went"
is "$(sql "SELECT count(*) FROM photofactory.media_assets WHERE original_name = 'IMG_20190101_120000.jpg'")" "1" "ingest_file wrote the ledger row"
is "$(sql "SELECT outcome FROM photofactory.ingest_file('$inbox/ops/IMG_20190101_120000.jpg')")" "vanished" \
  "ingest_file of a path no longer there: vanished"
is "$(sql "SELECT outcome || ' ' || (reason LIKE 'not_media%') FROM photofactory.ingest_file('$inbox/ops/readme.jpg')")" "rejected true" \
  "ingest_file of a non-photo: rejected with the reason"
err=$(sql "SELECT * FROM photofactory.ingest_file('/etc/passwd')" 2>&1)
ok "ingest_file refuses paths outside the inbox" grep -q "not inside photofactory.inbox_dir" <<<"$err"
err=$(sql "SELECT * FROM photofactory.ingest_file('$inbox/../storage/x.jpg')" 2>&1)
ok "ingest_file refuses .. escapes" grep -q "not inside photofactory.inbox_dir" <<<"$err"

# Resume; ingest_now wakes every librarian.
set_conf photofactory.ingest_enabled on; reload
is "$(sql "SELECT photofactory.ingest_now()")" "$(sql "SHOW photofactory.librarian_workers")" "ingest_now wakes every librarian"
ok "fresh.jpg ingested after resume" wait_for 20 sql_is "SELECT count(*) FROM photofactory.inbox_events WHERE original_name = 'fresh.jpg'" 1
ok "Syncthing temporary still untouched" test -f "$inbox/ops/~syncthing~IMG_5.JPG.tmp"
rm -f "$inbox/ops/~syncthing~IMG_5.JPG.tmp"   # test-owned fixture

# SIGHUP: a new inbox path takes effect without a restart.
inbox2=$PF_TEST_RUN/inbox2
mkdir -p "$inbox2/cam"; pf_own "$inbox2"
set_conf photofactory.inbox_dir "$inbox2"; reload
convert -size 30x20 xc:olive "$inbox2/cam/IMG_20180808_080808.jpg"; chown postgres: "$inbox2/cam/IMG_20180808_080808.jpg" 2>/dev/null
ok "file in the new inbox ingested after reload" wait_for 20 sql_is "SELECT count(*) FROM photofactory.media_assets WHERE original_path = '$inbox2/cam/IMG_20180808_080808.jpg'" 1
sql "ALTER SYSTEM RESET photofactory.inbox_dir" >/dev/null; sql "ALTER SYSTEM RESET photofactory.ingest_enabled" >/dev/null; reload

# SIGTERM (pg_terminate_backend): a worker exits cleanly and the supervisor
# starts a new one; the service keeps heartbeating.
for kind in librarian factory-db; do
  old=$(sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'photofactory $kind' ORDER BY pid LIMIT 1")
  sql "SELECT pg_terminate_backend($old)" >/dev/null
  ok "$kind: SIGTERM'd worker replaced by the supervisor" wait_for 20 sql_is \
    "SELECT count(*) FILTER (WHERE pid <> $old) >= 1 AND count(*) FILTER (WHERE pid = $old) = 0
       FROM pg_stat_activity WHERE backend_type = 'photofactory $kind'" t
done
is "$(sql "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'photofactory librarian'")" "$(sql "SHOW photofactory.librarian_workers")" \
  "all librarians back"
ok "no worker crashed (exit by signal) during the tests" test -z "$(grep -a 'photofactory.*terminated by signal' "$PF_TEST_RUN/log/server.log" | grep -v 'signal 9: Killed')"

pf_summary
