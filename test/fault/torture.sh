#!/usr/bin/env bash
# The torture suite: SIGKILL the librarian, and separately the whole
# postmaster, at random moments while it ingests a generated corpus
# (duplicates and same-name collisions included). After every restart and a
# quiet period an invariant checker proves that nothing was lost, nothing was
# ingested twice, and nothing is left half-done.
#
#   PF_TORTURE_FILES   distinct photos in the corpus (default 1000)
#   PF_TORTURE_ROUNDS  kill rounds (default 20)
# scripts/test.sh runs a CI-sized form; `bash test/fault/torture.sh` the full one.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/scripts/lib/common.sh"
FILES=${PF_TORTURE_FILES:-1000}
ROUNDS=${PF_TORTURE_ROUNDS:-20}
port=${PF_TORTURE_PORT:-54331}

run=$(mktemp -d /tmp/photofactory-torture.XXXXXX)
inbox=$run/inbox; storage=$run/storage; stage=$run/stage
mkdir -p "$inbox" "$storage" "$stage"
pf_cluster_init "$run" "$port" "$(pf_server_conf torture "$inbox" "$storage")
photofactory.librarian_workers = 2
photofactory.settle_time = '0'
photofactory.scan_interval = '2s'
shared_preload_libraries = 'photofactory'" >/dev/null || exit 1
pf_own "$run"
trap 'pf_cluster_stop "$run"; [ -n "${PF_KEEP_LOG:-}" ] && cp "$run/log/server.log" "$PF_KEEP_LOG"; rm -rf "$run"' EXIT
pf_cluster_start "$run" || exit 1
pf_psql "$run" -q -d postgres -c "CREATE DATABASE torture" >/dev/null
pf_psql "$run" -q -d torture -c "CREATE EXTENSION photofactory" >/dev/null 2>&1
sql() { pf_psql "$run" -d torture -X -A -t -q -c "$1"; }

echo "# generating $FILES photos (+10% duplicates, +5% same-name collisions)"
base=$stage/base.jpg
convert -size 64x48 plasma:fractal -quality 80 "$base"
declare -A want   # sha256 -> number of copies dropped
n=0
make_photo() {  # make_photo REL SEED : unique content by trailing bytes after EOI
  mkdir -p "$(dirname "$stage/corpus/$1")"
  { cat "$base"; printf 'pf-torture-%08d' "$2"; } >"$stage/corpus/$1"
}
for i in $(seq 1 "$FILES"); do
  day=$(( (i % 28) + 1 )); month=$(( (i % 12) + 1 ))
  name=$(printf 'IMG_2023%02d%02d_%02d%02d%02d.jpg' $month $day $((i % 24)) $((i % 60)) $((i % 60)))
  make_photo "dev$((i % 4))/$name" "$i"
done
# Collisions: same name and date, other content, another folder.
for i in $(seq 1 $((FILES / 20))); do
  src=$(ls "$stage/corpus/dev$((i % 4))" | sed -n "${i}p")
  [ -n "$src" ] && make_photo "collide/$src" $((FILES + i))
done
# Duplicates: identical bytes under another name.
for f in $(cd "$stage/corpus" && find . -type f -name '*.jpg' | sort | awk 'NR % 10 == 0'); do
  mkdir -p "$stage/corpus/dups"; cp "$stage/corpus/$f" "$stage/corpus/dups/copy_$(basename "$f")"
done
while IFS= read -r h; do want[$h]=$(( ${want[$h]:-0} + 1 )); done < <(find "$stage/corpus" -type f -exec sha256sum {} + | cut -d' ' -f1)
total=$(find "$stage/corpus" -type f | wc -l)
echo "# corpus: $total files, ${#want[@]} distinct contents"

# Batches: one folder per round so that every round drops new work.
mapfile -t all < <(cd "$stage/corpus" && find . -type f | sort -R)
per=$(( (total + ROUNDS - 1) / ROUNDS ))
kills=0; pm_kills=0; lib_kills=0
postmaster_pid() { head -1 "$run/data/postmaster.pid" 2>/dev/null; }
for r in $(seq 1 "$ROUNDS"); do
  for f in "${all[@]:$(( (r - 1) * per )):$per}"; do
    mkdir -p "$inbox/r$r/$(dirname "$f")"; cp -p "$stage/corpus/$f" "$inbox/r$r/$f"
  done
  chown -R postgres: "$inbox" 2>/dev/null || true
  sleep "0.$(( RANDOM % 9 + 1 ))"
  if (( r % 3 == 0 )); then
    pm=$(postmaster_pid); kids=$(pgrep -P "$pm" | tr '\n' ' ')
    kill -9 "$pm"; kills=$((kills + 1)); pm_kills=$((pm_kills + 1))
    for _ in $(seq 1 100); do alive=0; for k in $kids; do kill -0 "$k" 2>/dev/null && alive=1; done; [ $alive -eq 0 ] && break; sleep 0.1; done
    rm -f "$run/data/postmaster.pid"
    pf_cluster_start "$run" || { echo "not ok - restart after kill -9 failed"; exit 1; }
  else
    pid=$(pgrep -f "photofactory librarian" | sort -R | head -1)
    if [ -n "$pid" ]; then kill -9 "$pid"; kills=$((kills + 1)); lib_kills=$((lib_kills + 1))
      # A killed backend makes the postmaster reinitialise every process: wait for it.
      sleep 1
      for _ in $(seq 1 100); do pf_psql "$run" -d torture -c "SELECT 1" >/dev/null 2>&1 && break; sleep 0.1; done
    fi
  fi
done

echo "# $kills kills done ($pm_kills postmaster, $lib_kills librarian); waiting for quiet"
quiet() {
  [ -z "$(find "$inbox" -type f -print -quit)" ] && [ "$(sql "SELECT count(*) FROM photofactory.ingest_journal")" = "0" ]
}
for _ in $(seq 1 600); do quiet && break; sleep 0.5; done

# ---- invariant checker
fail=0
check() { if [ "$2" = "$3" ]; then echo "ok - $1"; else echo "not ok - $1: got '$2', expected '$3'"; fail=$((fail + 1)); fi; }
left=$(find "$inbox" -type f | wc -l)
check "inbox holds no unprocessed file" "$left" 0
check "journal is empty" "$(sql "SELECT count(*) FROM photofactory.ingest_journal")" 0
declare -A in_orig in_dup
while IFS= read -r line; do h=${line%% *}; in_orig[$h]=$(( ${in_orig[$h]:-0} + 1 )); done < <(cd "$storage" && find Originals -type f -exec sha256sum {} + 2>/dev/null)
while IFS= read -r line; do h=${line%% *}; in_dup[$h]=$(( ${in_dup[$h]:-0} + 1 )); done < <(cd "$storage" && find Duplicates -type f -exec sha256sum {} + 2>/dev/null)
lost=0; twice=0; dupmiss=0
for h in "${!want[@]}"; do
  case ${in_orig[$h]:-0} in 0) lost=$((lost + 1));; 1) ;; *) twice=$((twice + 1));; esac
  [ "${in_dup[$h]:-0}" -eq $(( want[$h] - 1 )) ] || dupmiss=$((dupmiss + 1))
done
rows=$(sql "SELECT count(*) FROM photofactory.media_assets")
files=$(cd "$storage" && find Originals -type f | wc -l)
orphans=$(( files - rows ))
bad_rows=$(sql "SELECT final_path || ' ' || file_hash FROM photofactory.media_assets" | while read -r p h; do
  [ -f "$p" ] && [ "$(sha256sum "$p" | cut -d' ' -f1)" = "$h" ] || echo x; done | wc -l)
temps=$(find "$storage" -name '.pf-incoming-*' | wc -l)
check "every content is in Originals (lost)" "$lost" 0
check "no content in Originals twice (duplicated)" "$twice" 0
check "every extra copy is in Duplicates" "$dupmiss" 0
check "no file in Originals without a row (orphans)" "$orphans" 0
check "every row's final_path exists with its hash" "$bad_rows" 0
check "one row per distinct content" "$rows" "${#want[@]}"
check "no temporary copies left" "$temps" 0
echo "# torture: rounds=$ROUNDS files=$total kills=$kills lost=$lost duplicated=$twice orphans=$orphans"
passed=$(( 10 - fail ))
echo "$passed passed, $fail failed"
[ "$fail" -eq 0 ]
