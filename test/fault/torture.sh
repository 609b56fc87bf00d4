#!/usr/bin/env bash
# The torture suite: SIGKILL the librarian, and separately the whole
# postmaster, at random moments while it ingests a generated corpus
# (duplicates and same-name collisions included). After every restart and a
# quiet period an invariant checker (lib.sh) proves that nothing was lost,
# nothing was ingested twice, and nothing is left half-done; the figures are
# printed at the end.
#
#   PF_TORTURE_FILES   distinct photos in the corpus (default 1000)
#   PF_TORTURE_ROUNDS  kill rounds (default 20)
#   PF_TORTURE_TMPFS   e.g. 256m: the library on a tmpfs of that size, so every
#                      move is a cross-filesystem copy + verify (needs root)
# scripts/test.sh runs a CI-sized form; `bash test/fault/torture.sh` the full one.
set -uo pipefail
FILES=${PF_TORTURE_FILES:-1000}
ROUNDS=${PF_TORTURE_ROUNDS:-20}
port=${PF_TORTURE_PORT:-54331}
started=$(date +%s)

run=$(mktemp -d /tmp/photofactory-torture.XXXXXX)
inbox=$run/inbox; storage=$run/storage; stage=$run/stage
mkdir -p "$inbox" "$storage" "$stage"
source "$(dirname "$0")/lib.sh"
if [ -n "${PF_TORTURE_TMPFS:-}" ]; then
  mount -t tmpfs -o "size=$PF_TORTURE_TMPFS,mode=0755" tmpfs "$storage" || { echo "not ok - cannot mount a tmpfs"; exit 1; }
fi
trap 'pf_cluster_stop "$run"; [ -n "${PF_KEEP_LOG:-}" ] && cp "$run/log/server.log" "$PF_KEEP_LOG"
      [ -n "${PF_TORTURE_TMPFS:-}" ] && { umount "$storage" || umount -l "$storage"; }; rm -rf "$run"' EXIT
fault_cluster torture "$port" "" || { echo "not ok - cluster start"; exit 1; }
# The backup service copies while everything is killed around it (issue #14).
mkdir -p "$run/backup" && chown postgres: "$run/backup"
sql "SELECT photofactory.add_backup_target('torture', '$run/backup')" >/dev/null 2>&1 ||
  { echo "not ok - backup target"; exit 1; }

echo "# generating $FILES photos (+10% duplicates, +5% same-name collisions)"
make_corpus "$stage/corpus" "$FILES" 0
total=$(find "$stage/corpus" -type f | wc -l)
[ "$total" -ge "$FILES" ] || { echo "not ok - corpus has $total files, fewer than $FILES"; exit 1; }
echo "# corpus: $total files, $(printf '%s\n' "${sha_of[@]}" | sort -u | wc -l) distinct contents"

# Batches: one folder per round so that every round drops new work.
mapfile -t all < <(cd "$stage/corpus" && find . -type f | sort -R)
per=$(( (total + ROUNDS - 1) / ROUNDS ))
kills=0; busy=0; pm_kills=0; lib_kills=0; worst_lost=0; worst_twice=0; worst_orphans=0; unquiet=0
for r in $(seq 1 "$ROUNDS"); do
  # Prepared beside the inbox, owned by the server's user, renamed in at once.
  for f in "${all[@]:$(( (r - 1) * per )):$per}"; do
    mkdir -p "$run/drop/r$r/$(dirname "$f")"; cp -p "$stage/corpus/$f" "$run/drop/r$r/$f"
    expect "${f#./}"
  done
  [ -d "$run/drop/r$r" ] && chown -R postgres: "$run/drop/r$r" && mv "$run/drop/r$r" "$inbox/r$r"
  wait_busy && busy=$((busy + 1))
  sleep "0.0$(( RANDOM % 10 ))"   # a random moment of the work
  if (( r % 3 == 0 )); then
    pm=$(postmaster_pid); kids=$(pgrep -P "$pm" | tr '\n' ' ')
    kill -9 "$pm"; kills=$((kills + 1)); pm_kills=$((pm_kills + 1))
    for _ in $(seq 1 100); do alive=0; for k in $kids; do kill -0 "$k" 2>/dev/null && alive=1; done; [ $alive -eq 0 ] && break; sleep 0.1; done
    rm -f "$run/data/postmaster.pid"
    pf_cluster_start "$run" || { echo "not ok - restart after kill -9 failed"; exit 1; }
  else
    # A killed backend makes the postmaster reinitialise every process: kill_a_librarian waits for it.
    if kill_a_librarian; then kills=$((kills + 1)); lib_kills=$((lib_kills + 1)); fi
  fi
  # After the restart and a quiet period: the invariants over everything dropped so far.
  wait_quiet 120 || unquiet=$((unquiet + 1))
  check_invariants "round $r"
  (( lost > worst_lost )) && worst_lost=$lost
  (( twice > worst_twice )) && worst_twice=$twice
  (( orphans > worst_orphans )) && worst_orphans=$orphans
done
recovered=$(grep -c 'recovered journal entry' "$run/log/server.log")
echo "# $kills kills done ($pm_kills postmaster, $lib_kills librarian; $busy while files were being processed);" \
     "$recovered interrupted moves resolved by recovery; invariants checked after each of $ROUNDS rounds"
check "every round ended quiet (inbox and journal empty)" "$unquiet" 0

# ---- the final state, every invariant
check_invariants
(( lost > worst_lost )) && worst_lost=$lost
(( twice > worst_twice )) && worst_twice=$twice
(( orphans > worst_orphans )) && worst_orphans=$orphans
# Backup: once everything is copied, every counted copy is on the target with
# the ledger's hash, every copy on the target is counted, no temporary is left.
for _ in $(seq 1 600); do
  [ "$(sql "SELECT count(*) FROM photofactory.media_assets WHERE NOT is_backed_up")" = 0 ] && break; sleep 0.2
done
check "backup: every asset backed up after the kills" \
  "$(sql "SELECT count(*) FROM photofactory.media_assets WHERE NOT is_backed_up")" 0
bad_copies=0
while IFS='|' read -r rel hash; do
  [ "$(sha256sum "$run/backup/$rel" 2>/dev/null | cut -d' ' -f1)" = "$hash" ] || bad_copies=$((bad_copies + 1))
done < <(sql "SELECT relative_path, file_hash FROM photofactory.asset_copies WHERE status = 'ok'")
check "backup: every counted copy verifies on the target" "$bad_copies" 0
check "backup: every file on the target is a counted copy" "$(find "$run/backup/Originals" -type f | wc -l)" \
  "$(sql "SELECT count(*) FROM photofactory.asset_copies WHERE status = 'ok'")"
check "backup: no temporaries left" \
  "$(find "$run/backup" "$storage" -regextype posix-extended -regex '.*/\.pf-backup-[0-9a-f]{16}\.tmp' | wc -l)" 0
echo "# torture: rounds=$ROUNDS files=$total kills=$kills lost=$worst_lost duplicated=$worst_twice orphans=$worst_orphans recovered=$recovered seconds=$(( $(date +%s) - started ))"
echo "$(( checks - fail )) passed, $fail failed"
[ "$fail" -eq 0 ]
