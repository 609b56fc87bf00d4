#!/usr/bin/env bash
# Full disk during ingestion: the library lives on a small tmpfs (so every
# move is a cross-filesystem copy + fsync + verify), and a corpus several
# times its size lands in the inbox at once. Ingestion must pause with status
# ERROR and a clear current_task, keep no partial or unrecorded file, lose
# nothing — also across a kill -9 of a librarian in the middle of it — and
# finish everything by itself once the filesystem is enlarged. Needs root
# (mount); skipped otherwise. test/e2e/30_storage_faults.sh covers the same
# pause on a live cluster with three files; this is the fault-suite size.
#
#   PF_FULLDISK_FILES  distinct photos (default 60)
#   PF_FULLDISK_PAD    bytes of random data per photo (default 200000)
#   PF_FULLDISK_SIZE   tmpfs size while full (default 4m)
set -uo pipefail
FILES=${PF_FULLDISK_FILES:-60}
PAD=${PF_FULLDISK_PAD:-200000}
SIZE=${PF_FULLDISK_SIZE:-4m}
port=${PF_FULLDISK_PORT:-54332}
started=$(date +%s)

if [ "$(id -u)" -ne 0 ]; then echo "ok - skipped: mounting a tmpfs needs root"; echo "1 passed, 0 failed"; exit 0; fi
run=$(mktemp -d /tmp/photofactory-fulldisk.XXXXXX)
inbox=$run/inbox; storage=$run/storage; stage=$run/stage
mkdir -p "$inbox" "$storage" "$stage"
source "$(dirname "$0")/lib.sh"
if ! mount -t tmpfs -o "size=$SIZE,mode=0755" tmpfs "$storage"; then
  echo "ok - skipped: cannot mount a tmpfs here"; echo "1 passed, 0 failed"; rm -rf "$run"; exit 0
fi
cleanup() {
  pf_cluster_stop "$run"
  [ -n "${PF_KEEP_LOG:-}" ] && cp "$run/log/server.log" "$PF_KEEP_LOG"
  umount "$storage" 2>/dev/null || umount -l "$storage"
  rm -rf "$run"
}
trap cleanup EXIT
fault_cluster fulldisk "$port" "photofactory.heartbeat_interval = '1s'" || { echo "not ok - cluster start"; exit 1; }
chown postgres: "$storage"

echo "# generating $FILES photos of ~$((PAD / 1000)) kB (+10% duplicates, +5% collisions) for a $SIZE library"
make_corpus "$stage/corpus" "$FILES" "$PAD"
total=$(find "$stage/corpus" -type f | wc -l)
bytes=$(du -sb "$stage/corpus" | cut -f1)
echo "# corpus: $total files, $((bytes / 1024)) KiB; library filesystem: $SIZE"

since='-infinity'   # only heartbeats after this count (not a stale row from before a kill)
librarian_is() {  # librarian_is STATUS TASK-PATTERN
  [ "$(sql "SELECT status = '$1' AND current_task LIKE '$2' AND last_heartbeat > '$since'
              FROM photofactory.system_status WHERE service_name = 'librarian'")" = t ]
}
librarians_up() {
  [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'photofactory librarian'")" = 2 ]
}
wait_until() {  # wait_until SECONDS COMMAND...
  local limit=$1; shift
  for _ in $(seq 1 $((limit * 4))); do "$@" && return 0; sleep 0.25; done
  return 1
}
# Everything in Originals/Duplicates is complete and recorded: no partial
# file passed off as complete, no row for a missing file.
library_consistent() {
  local rows files bad
  rows=$(sql "SELECT count(*) FROM photofactory.media_assets")
  files=$(cd "$storage" && find Originals -type f 2>/dev/null | wc -l)
  bad=$(sql "SELECT final_path || ' ' || file_hash FROM photofactory.media_assets" | while read -r p h; do
    [ "$(sha256sum "$p" 2>/dev/null | cut -d' ' -f1)" = "$h" ] || echo x; done | wc -l)
  [ "$rows" = "$files" ] && [ "$bad" = 0 ]
}
inbox_intact() {  # every file still in the inbox is byte-identical to what was dropped
  local f rel
  while IFS= read -r -d '' f; do
    rel=${f#"$inbox/"}
    [ "$(sha256sum "$f" | cut -d' ' -f1)" = "${sha_of[$rel]}" ] || return 1
  done < <(find "$inbox" -type f -print0)
}

# Drop everything at once; kill a librarian while it copies.
wait_until 30 librarians_up || { echo "not ok - librarians did not start"; exit 1; }
# (prepared beside the inbox, owned by the server's user, then renamed in)
mapfile -t all < <(cd "$stage/corpus" && find . -type f | sort)
for f in "${all[@]}"; do expect "${f#./}"; done
cp -a "$stage/corpus" "$run/drop" && chown -R postgres: "$run/drop"
for d in "$run/drop"/*; do mv "$d" "$inbox/"; done
sql "SELECT photofactory.ingest_now()" >/dev/null
kills=0
sleep 0.5
kill_a_librarian && kills=$((kills + 1))

check "ingestion pauses: status ERROR, current_task says storage is full" \
  "$(wait_until 90 librarian_is ERROR '%Paused: storage is full%' && echo paused)" paused
echo "# current_task: $(sql "SELECT current_task FROM photofactory.system_status WHERE service_name = 'librarian'")"
sql_is_zero() { [ "$(sql "SELECT count(*) FROM photofactory.ingest_journal")" = 0 ]; }
check "no move left in flight while paused (journal empty)" "$(wait_until 20 sql_is_zero && echo yes)" yes
check "no partial copy on the full filesystem" "$(find "$storage" -name '.pf-incoming-*' | wc -l)" 0
check "what is in the library is complete and recorded" "$(library_consistent && echo yes)" yes
check "what is still in the inbox is intact" "$(inbox_intact && echo yes)" yes
left_full=$(find "$inbox" -type f | wc -l)
check "the filesystem really filled up (files left waiting)" "$([ "$left_full" -gt 0 ] && echo yes)" yes
echo "# paused with $left_full of $total files waiting, $(df -k --output=avail "$storage" | tail -1 | tr -d ' ') KiB free"

# A kill -9 while paused: after crash recovery it pauses again, nothing lost.
since=$(sql "SELECT now()")
kill_a_librarian && kills=$((kills + 1))
check "after kill -9 while full: paused again" \
  "$(wait_until 90 librarian_is ERROR '%Paused: storage is full%' && echo paused)" paused
check "after kill -9 while full: library complete and recorded" "$(library_consistent && echo yes)" yes
check "after kill -9 while full: no partial copy" "$(find "$storage" -name '.pf-incoming-*' | wc -l)" 0
check "after kill -9 while full: inbox intact" "$(inbox_intact && echo yes)" yes

# Space returns: everything completes by itself (retry every 30 s).
since=$(sql "SELECT now()")
mount -o remount,size=256m "$storage"
freed=$(date +%s)
check "after the filesystem grows: everything ingested" "$(wait_quiet 120 && echo yes)" yes
echo "# resumed and finished $(( $(date +%s) - freed )) s after space returned"
check "status back to OK" "$(wait_until 30 librarian_is OK '%' && echo yes)" yes
check_invariants
echo "# full-disk: files=$total library=$SIZE kills=$kills lost=$lost duplicated=$twice orphans=$orphans seconds=$(( $(date +%s) - started ))"
echo "$(( checks - fail )) passed, $fail failed"
[ "$fail" -eq 0 ]
