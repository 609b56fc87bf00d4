# Shared by the fault suites (torture.sh, full_disk.sh): a throwaway cluster,
# a generated corpus with duplicates and same-name collisions, and the
# invariant checker that proves nothing was lost, doubled or left half-done.
# Source after setting: run (work folder), inbox, storage.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/scripts/lib/common.sh"

sql() { pf_psql "$run" -d "$db" -X -A -t -q -c "$1"; }

# fault_cluster DB PORT EXTRA_CONF: initdb + start, extension created in DB.
fault_cluster() {
  db=$1
  local port=$2 extra=$3
  pf_cluster_init "$run" "$port" "$(pf_server_conf "$db" "$inbox" "$storage")
photofactory.librarian_workers = 2
photofactory.settle_time = '0'
photofactory.scan_interval = '2s'
shared_preload_libraries = 'photofactory'
$extra" >/dev/null || return 1
  pf_own "$run"
  pf_cluster_start "$run" || return 1
  pf_psql "$run" -q -d postgres -c "CREATE DATABASE $db" >/dev/null &&
    pf_psql "$run" -q -d "$db" -c "CREATE EXTENSION photofactory" >/dev/null 2>&1
}

postmaster_pid() { head -1 "$run/data/postmaster.pid" 2>/dev/null; }

# Waits (up to 3 s) until a librarian says it is processing files, so that a
# kill lands in the middle of the work rather than on an idle worker. Polls
# inside the server (1 ms steps): a batch of small files takes well under a
# second, too short for a poll through a new connection each time.
wait_busy() {
  sql "DO \$\$ BEGIN
         FOR i IN 1 .. 3000 LOOP
           PERFORM pg_stat_clear_snapshot();
           IF EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'photofactory librarian'
                         AND query LIKE 'Processing%') THEN RETURN; END IF;
           PERFORM pg_sleep(0.001);
         END LOOP;
         RAISE EXCEPTION 'idle';
       END \$\$" >/dev/null 2>&1
}

# kill -9 of one librarian; the postmaster then reinitialises every process:
# returns once the server accepts connections again.
kill_a_librarian() {
  local pid
  # Only this cluster's children: other clusters on the machine (helpers,
  # a bench) have librarians too.
  pid=$(pgrep -P "$(postmaster_pid)" -f "photofactory librarian" | sort -R | head -1)
  [ -n "$pid" ] || return 1
  kill -9 "$pid"
  sleep 1
  for _ in $(seq 1 100); do pf_psql "$run" -d "$db" -c "SELECT 1" >/dev/null 2>&1 && break; sleep 0.1; done
}

# make_corpus DIR FILES PAD_BYTES: FILES distinct photos (a tiny JPEG plus a
# unique tail of PAD_BYTES random bytes after its end), 5 % same-name
# collisions in another folder, 10 % byte-identical duplicates under another
# name. Fills sha_of[relative path]; expect REL counts a dropped file in
# want[sha256] (copies dropped so far).
declare -A want sha_of
expect() { want[${sha_of[$1]}]=$(( ${want[${sha_of[$1]}]:-0} + 1 )); }
make_corpus() {
  local dir=$1 files=$2 pad=$3 i day month name src f
  local base=$dir.base.jpg
  convert -size 64x48 plasma:fractal -quality 80 "$base"
  mkphoto() {  # mkphoto REL SEED
    mkdir -p "$(dirname "$dir/$1")"
    { cat "$base"; printf 'pf-fault-%08d' "$2"; [ "$pad" -eq 0 ] || head -c "$pad" /dev/urandom; } >"$dir/$1"
  }
  for i in $(seq 1 "$files"); do
    day=$(( (i % 28) + 1 )); month=$(( (i % 12) + 1 ))
    # The time of day encodes i: names never repeat within a folder.
    name=$(printf 'IMG_2023%02d%02d_%02d%02d%02d.jpg' $month $day $((i / 3600 % 24)) $((i / 60 % 60)) $((i % 60)))
    mkphoto "dev$((i % 4))/$name" "$i"
  done
  for i in $(seq 1 $((files / 20))); do
    src=$(ls "$dir/dev$((i % 4))" | sed -n "${i}p")
    [ -n "$src" ] && mkphoto "collide/$src" $((files + i))
  done
  for f in $(cd "$dir" && find . -type f -name '*.jpg' | sort | awk 'NR % 10 == 0'); do
    mkdir -p "$dir/dups"; cp "$dir/$f" "$dir/dups/copy_$(basename "$f")"
  done
  while read -r h f; do sha_of[${f#./}]=$h; done < <(cd "$dir" && find . -type f -exec sha256sum {} +)
}

fail=0; checks=0; check_label=""
check() {  # check DESCRIPTION ACTUAL EXPECTED
  checks=$((checks + 1))
  if [ "$2" = "$3" ]; then [ -n "$check_label" ] || echo "ok - $1"
  else echo "not ok - ${check_label:+$check_label: }$1: got '$2', expected '$3'"; fail=$((fail + 1)); fi
}

# Sets lost, twice, orphans and checks every invariant: one line each, or
# with a LABEL only the failures (for the checks after every round).
check_invariants() {
  check_label=${1:-}
  local left rows files bad_rows temps dupmiss=0 h line
  declare -A in_orig=() in_dup=()
  left=$(find "$inbox" -type f | wc -l)
  check "inbox holds no unprocessed file" "$left" 0
  check "journal is empty" "$(sql "SELECT count(*) FROM photofactory.ingest_journal")" 0
  while IFS= read -r line; do h=${line%% *}; in_orig[$h]=$(( ${in_orig[$h]:-0} + 1 )); done \
    < <(cd "$storage" && find Originals -type f -exec sha256sum {} + 2>/dev/null)
  while IFS= read -r line; do h=${line%% *}; in_dup[$h]=$(( ${in_dup[$h]:-0} + 1 )); done \
    < <(cd "$storage" && find Duplicates -type f -exec sha256sum {} + 2>/dev/null)
  lost=0; twice=0
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
  check_label=""
}

# Waits up to SECONDS for an idle library: inbox empty, journal empty.
wait_quiet() {
  local i
  for i in $(seq 1 $(( ${1:-60} * 2 ))); do
    [ -z "$(find "$inbox" -type f -print -quit)" ] && [ "$(sql "SELECT count(*) FROM photofactory.ingest_journal")" = "0" ] && return 0
    sleep 0.5
  done
  return 1
}
