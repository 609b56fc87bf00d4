#!/usr/bin/env bash
# End to end, issue #10 item 14: pg_cancel_backend() must not kill a worker,
# and ingest_file() request slots must not leak when their caller is
# terminated (FATAL never reaches a PG_CATCH).
source "$(dirname "$0")/lib/assert.sh"

# --- item 14: workers ignore pg_cancel_backend --------------------------------
pids=$(sql "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity
            WHERE backend_type IN ('photofactory librarian', 'photofactory factory-db', 'photofactory supervisor')")
sql "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid IN ($pids)" >/dev/null
t0=$(sql "SELECT now()")
ok "after pg_cancel_backend, both services heartbeat again" wait_for 20 sql_is \
  "SELECT count(*) FROM photofactory.system_status WHERE service_name IN ('librarian', 'factory-db') AND last_heartbeat > '$t0'" 2
is "$(sql "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity
           WHERE backend_type IN ('photofactory librarian', 'photofactory factory-db', 'photofactory supervisor')")" "$pids" \
  "pg_cancel_backend killed no worker (same processes)"
ok "no worker died of a cancel" test -z "$(grep -a 'photofactory .*canceling statement due to user request' "$PF_TEST_RUN/log/server.log")"

# (Before 0.2.0 the cancel made every worker exit: let them come back first.)
wait_for 60 sql_is "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'photofactory librarian'" \
  "$(sql "SHOW photofactory.librarian_workers")"
t1=$(sql "SELECT now()")
wait_for 30 sql_is "SELECT count(*) FROM photofactory.system_status WHERE service_name = 'librarian' AND last_heartbeat > '$t1'" 1

# --- item 14: ingest_file() slots of terminated callers are reclaimed ---------
# A session holds the per-content advisory lock the librarian's plan step
# takes, so requests for that file wait; each waiting caller is terminated.
mkdir -p "$inbox/slots"
convert -size 20x20 xc:tan "$inbox/slots/IMG_20220202_020202.jpg"; pf_own "$inbox/slots"
hash=$(sha256sum "$inbox/slots/IMG_20220202_020202.jpg" | cut -d' ' -f1)
PGAPPNAME=pf_lock_holder pf_psql "$PF_TEST_RUN" -d pftest -q -c \
  "SELECT pg_advisory_lock(pg_catalog.hashtextextended('$hash', 0::bigint))" -c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
ok "the lock holder holds the file's lock" wait_for 10 sql_is \
  "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'pf_lock_holder' AND l.locktype = 'advisory' AND l.granted" 1
for i in 1 2 3 4 5 6 7 8 9; do
  PGAPPNAME=pf_requester pf_psql "$PF_TEST_RUN" -d pftest -q -c \
    "SELECT * FROM photofactory.ingest_file('$inbox/slots/IMG_20220202_020202.jpg')" >/dev/null 2>&1 &
  wait_for 10 sql_is "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pf_requester' AND wait_event_type = 'Extension'" 1 ||
    echo "# request $i did not start waiting"
  sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pf_requester'" >/dev/null
  wait_for 10 sql_is "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pf_requester'" 0
done
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pf_lock_holder'" >/dev/null
wait
convert -size 20x20 xc:wheat "$inbox/slots/IMG_20220203_030303.jpg"; pf_own "$inbox/slots"
row=$(sql "SELECT outcome FROM photofactory.ingest_file('$inbox/slots/IMG_20220203_030303.jpg')" 2>&1)
is "$row" "ingested" "after 9 terminated callers (8 slots), ingest_file() still has a free slot"
ok "the contended file is ingested exactly once" wait_for 30 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_name = 'IMG_20220202_020202.jpg'" 1
is "$(sql "SELECT count(*) FROM photofactory.inbox_events WHERE original_path = '$inbox/slots/IMG_20220202_020202.jpg'")" "1" \
  "and recorded once"

pf_summary
