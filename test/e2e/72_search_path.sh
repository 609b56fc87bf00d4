#!/usr/bin/env bash
# End to end, issue #10 item 2: a database owner who is not a superuser plants
# in public a function, operator, type or table for every name the workers'
# SQL uses, each recording that it ran, and sets the database's search_path to
# "public, pg_catalog". The workers (superuser) must run none of them: their
# sessions pin search_path and every name in their SQL is schema-qualified.
source "$(dirname "$0")/lib/assert.sh"

port=$(cat "$PF_TEST_RUN/port")
mallory() { pf_as_owner psql -X -A -t -q -v ON_ERROR_STOP=1 -h "$PF_TEST_RUN/sock" -p "$port" -U pf_mallory -d pftest "$@"; }
planted_by_workers() {
  sql "SELECT count(*) FROM public.pf_planted_log WHERE backend LIKE 'photofactory%'"
}
restart_workers() {
  local pids
  pids=$(sql "SELECT string_agg(pid::text, ',') FROM pg_stat_activity
              WHERE backend_type IN ('photofactory librarian', 'photofactory factory-db')")
  sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN ($pids)" >/dev/null
  wait_for 30 sql_is "SELECT count(*) FILTER (WHERE pid IN ($pids)) = 0
                             AND count(*) = 1 + current_setting('photofactory.librarian_workers')::int
                        FROM pg_stat_activity
                       WHERE backend_type IN ('photofactory librarian', 'photofactory factory-db')" t
}
cleanup_attack() {
  mallory -c "ALTER DATABASE pftest RESET search_path" >/dev/null 2>&1
  sql "ALTER DATABASE pftest OWNER TO postgres" >/dev/null 2>&1
  sql "DROP OWNED BY pf_mallory CASCADE" >/dev/null 2>&1
  sql "DROP ROLE IF EXISTS pf_mallory" >/dev/null 2>&1
}
trap cleanup_attack EXIT

sql "CREATE ROLE pf_mallory LOGIN NOSUPERUSER" >/dev/null
sql "ALTER DATABASE pftest OWNER TO pf_mallory" >/dev/null
# The file is opened by this shell (root), not by psql running as the cluster's
# user: a checkout under a private folder (mktemp -d, /root) is not readable there.
ok "the database owner plants objects in public" mallory -f - <"$root/test/e2e/sql/plant_search_path.sql"
ok "the database owner sets the database's search_path" \
  mallory -c "ALTER DATABASE pftest SET search_path = public, pg_catalog"

# The plant works: an ordinary new session resolves to it.
sql "SELECT hashtextextended('x', 0), to_char(now(), 'YYYY'), count(*) FROM pg_class" >/dev/null
ok "sanity: a session on the database's search_path runs the planted functions" \
  test "$(sql "SELECT count(DISTINCT what) FROM public.pf_planted_log WHERE backend = 'client backend'")" -ge 4

# New worker sessions pick the database's settings up at connection.
ok "workers reconnected under the planted search_path" restart_workers

# Work that runs every worker query: a batch with a duplicate, a sidecar and a
# companion pair (plan, hash locks, duplicate/sidecar/companion lookups, the
# journal, finish, group claims with two librarians), ingest_file(), a
# verification run and health checks.
mkdir -p "$inbox/sp"
convert -size 32x24 xc:teal "$inbox/sp/IMG_20200202_020202.jpg"
cp "$inbox/sp/IMG_20200202_020202.jpg" "$inbox/sp/copy_of_teal.jpg"
printf '<x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>\n' >"$inbox/sp/IMG_20200203_030303.xmp"
convert -size 32x24 xc:navy "$inbox/sp/IMG_20200203_030303.jpg"
convert -size 32x24 xc:plum "$inbox/sp/IMG_20200204_040404.jpg"
touch -d '-1 minute' "$inbox/sp"/*
pf_own "$inbox/sp"
row=$(sql "SELECT outcome FROM photofactory.ingest_file('$inbox/sp/IMG_20200204_040404.jpg')")
is "$row" "ingested" "ingest_file works under the planted search_path"
sql "SELECT photofactory.ingest_now()" >/dev/null
wait_for 60 sql_is "SELECT count(*) FROM photofactory.inbox_events WHERE original_path LIKE '$inbox/sp/%'" 5
is "$(sql "SELECT string_agg(outcome, ' ' ORDER BY outcome) FROM photofactory.inbox_events
           WHERE original_path LIKE '$inbox/sp/%'")" "duplicate ingested ingested ingested sidecar" \
  "the batch is ingested (a duplicate, a sidecar)"
run=$(sql "SELECT photofactory.start_verification()")
ok "a background verification run finishes" wait_for 60 sql_is \
  "SELECT status FROM photofactory.verification_runs WHERE id = $run" done
ok "factory-db heartbeats after the attack" wait_for 20 sql_is \
  "SELECT last_heartbeat > now() - interval '5 seconds' FROM photofactory.system_status WHERE service_name = 'factory-db'" t

is "$(planted_by_workers)" "0" "no planted object ran in a worker"
hits=$(grep -a 'pf-planted .* ran in photofactory' "$PF_TEST_RUN/log/server.log" | head -5)
is "$hits" "" "the server log shows no planted object running in a worker"

# Put the database back for the next tests (and restart the workers so that
# nothing of the attack lingers in their sessions).
cleanup_attack
trap - EXIT
restart_workers >/dev/null
pf_summary
