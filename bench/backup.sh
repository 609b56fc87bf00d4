#!/usr/bin/env bash
# Backup benchmark (issue #14), standalone: the backup service's verified,
# durable copy of a library against `cp -a` + `sync` and `rsync -a` +
# `sha256sum` of the copies, and its scrub against `openssl dgst -sha256` of
# the same copies (their cached pages dropped first, as the scrub does).
# All targets are folders on the same disk as Storage (one disk: the same
# writes for everyone). Ledger rows are inserted directly (the librarian is
# not what is measured).
#
#   bash bench/backup.sh [FILES] [MB_PER_FILE]      (default 200 files of 2 MB)
#
# Needs a running-cluster setup like scripts/test.sh (starts its own cluster on
# PF_BENCH_PORT, default 54392; hold the install lock if it uses the installed
# photofactory.so). Prints one line per measurement and the ratios.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
source scripts/lib/common.sh
files=${1:-200}
mb=${2:-2}
port=${PF_BENCH_PORT:-54392}
run=$(mktemp -d /tmp/pf-bench-backup.XXXXXX)
mkdir -p "$run/inbox" "$run/storage/Originals/2024/2024-01-01" "$run/cp" "$run/rsync" "$run/pf"
pf_cluster_init "$run" "$port" "$(pf_server_conf pfbench "$run/inbox" "$run/storage")
photofactory.librarian_workers = 0
photofactory.backup_scrub_rate = 100000
photofactory.heartbeat_interval = '1s'" || exit 1
trap 'pf_cluster_stop "$run"; rm -rf "$run"' EXIT
pf_own "$run"
pf_cluster_start "$run" || exit 1
q() { pf_psql "$run" -d pfbench -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"; }
pf_psql "$run" -d postgres -q -c "CREATE DATABASE pfbench" >/dev/null
pf_psql "$run" -d pfbench -q -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION photofactory" >/dev/null

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | xargs printf '%.3f'; }
drop_cache() { python3 -c 'import os,sys
for p in sys.argv[1:]:
    fd = os.open(p, os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)' "$@"; }

orig=$run/storage/Originals/2024/2024-01-01
rows=$run/rows.tsv
: >"$rows"
for i in $(seq 1 "$files"); do
  f=$orig/IMG_$i.JPG
  head -c $((mb * 1024 * 1024)) /dev/urandom >"$f"
  printf '%s\tIMG_%s.JPG\t%s\t%s\t%s\t2024-01-01 12:00:00\n' "$(sha256sum "$f" | cut -d' ' -f1)" "$i" \
    "$run/inbox/IMG_$i.JPG" "$f" "$((mb * 1024 * 1024))" >>"$rows"
done
pf_own "$run/storage"
pf_as_owner psql -X -q -h "$run/sock" -p "$port" -U postgres -d pfbench -c \
  "\\copy photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes, captured_at) FROM '$rows'"
total_mb=$((files * mb))
cat "$orig"/* >/dev/null   # every contender starts from page-cached originals

t0=$(now); cp -a "$run/storage/Originals" "$run/cp/" && sync; t1=$(now)
cp_s=$(secs "$t0" "$t1")
echo "cp -a + sync:              ${cp_s} s  ($total_mb MB)"

rsync_s=""
if command -v rsync >/dev/null; then
  t0=$(now); rsync -a "$run/storage/Originals" "$run/rsync/" && find "$run/rsync" -type f -exec sha256sum {} + >/dev/null; t1=$(now)
  rsync_s=$(secs "$t0" "$t1")
  echo "rsync -a + sha256sum:      ${rsync_s} s"
fi
cat "$orig"/* >/dev/null

t0=$(now)
q "SELECT photofactory.add_backup_target('bench', '$run/pf')" >/dev/null 2>&1
until [ "$(q "SELECT count(*) FROM photofactory.media_assets WHERE NOT is_backed_up")" = 0 ]; do sleep 0.05; done
t1=$(now)
pf_wall=$(secs "$t0" "$t1")
# The worker notices a new target at its next round (it polls every 2 s when
# idle): the copying itself runs from the first copy's start to the last copy.
pf_s=$(q "SELECT round((extract(epoch FROM max(copied_at) - min(copied_at)) * $files / ($files - 1))::numeric, 3)
            FROM photofactory.asset_copies")
echo "backup service (verified): ${pf_s} s  (${pf_wall} s from add_backup_target, including the worker's wake-up)"

# Scrub: wait for the first pass (it starts once everything is copied) to end.
until [ "$(q "SELECT count(*) FROM photofactory.backup_events WHERE event = 'scrub_done'")" -ge 1 ]; do sleep 0.05; done
q "SELECT photofactory.start_backup_scrub('bench')" >/dev/null
until [ "$(q "SELECT scrub_started_at IS NOT NULL FROM photofactory.backup_targets")" = t ]; do sleep 0.02; done
t0=$(now)
until [ "$(q "SELECT count(*) FROM photofactory.backup_events WHERE event = 'scrub_done'")" -ge 2 ]; do sleep 0.05; done
t1=$(now)
scrub_s=$(secs "$t0" "$t1")
echo "scrub (uncached):          ${scrub_s} s"
mapfile -t copies < <(find "$run/pf/Originals" -type f)
drop_cache "${copies[@]}"
t0=$(now); openssl dgst -sha256 "${copies[@]}" >/dev/null; t1=$(now)
ossl_s=$(secs "$t0" "$t1")
echo "openssl dgst (uncached):   ${ossl_s} s"

echo "ratio backup vs cp -a+sync (>= 0.8 wanted):          $(echo "$cp_s / $pf_s" | bc -l | xargs printf '%.2f')"
[ -n "$rsync_s" ] && echo "ratio backup vs rsync+sha256sum (>= 1.5 wanted):     $(echo "$rsync_s / $pf_s" | bc -l | xargs printf '%.2f')"
echo "ratio scrub vs openssl dgst (>= 0.85 wanted):        $(echo "$ossl_s / $scrub_s" | bc -l | xargs printf '%.2f')"
