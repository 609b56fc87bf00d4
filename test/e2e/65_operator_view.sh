#!/usr/bin/env bash
# End to end (issue #19): what an operator sees from psql and the server log
# while files arrive: LISTEN photofactory_ingested, ingest_progress and the
# aggregated librarian row, the round summary and per-file lines in the log
# (escaped, absolute), and inbox_plan()'s dry run.
source "$(dirname "$0")/lib/assert.sh"

log=$PF_TEST_RUN/log/server.log
log_from=$(( $(stat -c %s "$log") + 1 ))
new_log() { tail -c +"$log_from" "$log"; }
stage=$(mktemp -d "$PF_TEST_RUN/stage.XXXXXX")

ok "a librarian logged where it watches" grep -q "watching inbox \"$inbox\", storing into \"$storage\"" "$log"

# Dry run first: ingestion paused, the plan says where each file would go.
sql "ALTER SYSTEM SET photofactory.ingest_enabled = off" >/dev/null
sql "ALTER SYSTEM SET log_min_messages = debug1" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
ok "the pause is reported at once" wait_for 10 sql_is \
  "SELECT status || ' ' || (current_task LIKE '%Paused%') FROM photofactory.system_status WHERE service_name = 'librarian'" "WARNING true"
ok "the pause is logged" wait_for 10 bash -c "tail -c +$log_from '$log' | grep -q 'Paused: photofactory.ingest_enabled is off'"

mkdir -p "$stage/op"
for i in $(seq 1 12); do
  convert -size 20x20 "xc:rgb($((i * 20)),40,90)" "$stage/op/IMG_20180304_0506$(printf %02d "$i").jpg"
done
convert -size 20x20 xc:plum "$stage/op/$(printf 'line\nbreak.jpg')"
find "$stage/op" -type f -exec touch -d '-1 minute' {} +
chown -R postgres: "$stage/op"
mv "$stage/op" "$inbox/op"
sleep 1.5   # the move changed their ctime: let them settle
plan=$(sql "SELECT path || ' ' || destination || ' ' || captured_at || ' ' || date_source
              FROM photofactory.inbox_plan() WHERE path = 'op/IMG_20180304_050601.jpg'")
is "$plan" "op/IMG_20180304_050601.jpg Originals/2018/2018-03-04/IMG_20180304_050601.jpg 2018-03-04 05:06:01 filename" \
  "inbox_plan: destination, date and the rule that decided it"
ok "inbox_plan moved nothing" test -f "$inbox/op/IMG_20180304_050601.jpg"

# LISTEN in a psql session of its own while the files go in.
notes=$stage/notifications.txt
( echo "LISTEN photofactory_ingested;"; for _ in $(seq 1 60); do sleep 0.5; echo "SELECT 1;"; done ) |
  pf_psql "$PF_TEST_RUN" -d pftest -X -q -t >"$notes" 2>&1 &
listener=$!
sleep 1
sql "ALTER SYSTEM RESET photofactory.ingest_enabled" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
ok "the 13 files are ingested" wait_for 30 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_path LIKE '$inbox/op/%'" 13
ok "resuming is logged" wait_for 10 bash -c "tail -c +$log_from '$log' | grep -q 'resumed (was: Paused: photofactory.ingest_enabled is off)'"
ok "the round ends" wait_for 30 sql_is "SELECT busy FROM photofactory.ingest_progress" f
sleep 1.5
kill "$listener" 2>/dev/null; wait "$listener" 2>/dev/null
ids=$(grep -o 'payload "{.*}" received' "$notes" | sed 's/^payload "//; s/" received$//' |
      perl -MJSON::PP -ne 'my $j = decode_json($_); print "$_\n" for @{$j->{ids}}' | sort)
is "$ids" "$(sql "SELECT id FROM photofactory.media_assets WHERE original_path LIKE '$inbox/op/%' ORDER BY id::text")" \
  "LISTEN photofactory_ingested: every new asset's id, once"
ok "one notification per committed batch, not per file" \
  test "$(grep -c 'Asynchronous notification "photofactory_ingested"' "$notes")" -lt 13

# Progress and the service row, after the round.
is "$(sql "SELECT waiting || ' ' || (done_this_round >= 13) || ' ' || (round_ended_at IS NOT NULL) || ' ' || (eta = '0')
           FROM photofactory.ingest_progress")" "0 true true true" "ingest_progress after the round"
is "$(sql "SELECT count(*) FROM photofactory.librarian_state")" "2" "one state row per librarian"
ok "the service row speaks for all librarians" sql_is \
  "SELECT current_task LIKE 'Watching % with 2 librarians%' FROM photofactory.system_status WHERE service_name = 'librarian'" t

# Fewer librarians: the one that stops takes its row with it; none: the row says so.
sql "ALTER SYSTEM SET photofactory.librarian_workers = 1" >/dev/null; sql "SELECT pg_reload_conf()" >/dev/null
ok "a stopped librarian's state row goes" wait_for 20 sql_is "SELECT string_agg(librarian::text, ',') FROM photofactory.librarian_state" 0
sql "ALTER SYSTEM SET photofactory.librarian_workers = 0" >/dev/null; sql "SELECT pg_reload_conf()" >/dev/null
ok "with none running the service row says so" wait_for 20 sql_is \
  "SELECT status || ' ' || current_task FROM photofactory.system_status WHERE service_name = 'librarian'" \
  "WARNING Stopped: no librarian is running"
sql "ALTER SYSTEM RESET photofactory.librarian_workers" >/dev/null; sql "SELECT pg_reload_conf()" >/dev/null
ok "both librarians report again" wait_for 30 sql_is "SELECT count(*) FROM photofactory.librarian_state" 2

# The log: a round summary, per-file lines at DEBUG1 with absolute escaped paths.
ok "one LOG summary for the round" grep -qE 'round done in [0-9.]+ s: [0-9]+ ingested, [0-9]+ duplicates, [0-9]+ rejected, [0-9.]+ MB \([0-9.]+ files/s' <(new_log)
ok "per-file lines at DEBUG1, absolute source and destination" \
  grep -q "ingested: \"$inbox/op/IMG_20180304_050601.jpg\" -> \"$storage/Originals/2018/2018-03-04/IMG_20180304_050601.jpg\"" <(new_log)
ok "a newline in a name is escaped in the log" grep -q "\"$inbox/op/line\\\\nbreak.jpg\"" <(new_log)
ok "no log line starts inside a file name" test -z "$(new_log | grep -E '^break\.jpg')"
sql "ALTER SYSTEM RESET log_min_messages" >/dev/null

# An inbox that cannot be opened: one LOG line (not one per retry), ERROR at once.
sql "ALTER SYSTEM SET photofactory.inbox_dir = '$PF_TEST_RUN/no-such-inbox'" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
ok "an inbox that cannot be opened is reported" wait_for 15 sql_is \
  "SELECT status || ' ' || (current_task LIKE '%Cannot open inbox%no-such-inbox%') FROM photofactory.system_status WHERE service_name = 'librarian'" "ERROR true"
sleep 11   # two more attempts to open it (every 5 s)
is "$(new_log | grep -c 'Cannot open inbox .*no-such-inbox')" "1" "an inbox that cannot be opened is logged once"
sql "ALTER SYSTEM RESET photofactory.inbox_dir" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
ok "recovery is logged" wait_for 15 bash -c "tail -c +$log_from '$log' | grep -q 'resumed (was: Cannot open inbox'"

pf_summary
