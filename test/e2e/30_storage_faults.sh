#!/usr/bin/env bash
# End to end: storage on another filesystem (a small tmpfs), so every move is
# copy + fsync + verify + release; then that filesystem fills up mid-ingest:
# ingestion pauses with a clear status, keeps no partial file, loses nothing,
# and resumes by itself once space returns. Needs root (mount); skipped otherwise.
source "$(dirname "$0")/lib/assert.sh"
small=$PF_TEST_RUN/smallfs

if [ "$(id -u)" -ne 0 ] || ! { mkdir -p "$small" && mount -t tmpfs -o size=6m,mode=0755 tmpfs "$small"; }; then
  echo "ok - skipped: mounting a tmpfs needs root"
  pf_summary; exit $?
fi
chown postgres: "$small"
cleanup() {
  sql "ALTER SYSTEM RESET photofactory.storage_dir" >/dev/null 2>&1
  sql "SELECT pg_reload_conf()" >/dev/null 2>&1; sleep 1
  umount "$small" 2>/dev/null || umount -l "$small"
}
trap cleanup EXIT
sql "ALTER SYSTEM SET photofactory.storage_dir = '$small'" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null; sleep 1.5

stage=$(mktemp -d "$PF_TEST_RUN/stage30.XXXXXX")
mkdir -p "$stage/xfs"
for c in red green blue; do convert -size 40x30 "xc:$c" "$stage/xfs/IMG_20170707_0707${#c}0.jpg"; done
touch -d '2017-07-07 07:07:07' "$stage/xfs"/*.jpg
declare -A sha mtime
for f in "$stage/xfs"/*.jpg; do sha[$(basename "$f")]=$(sha256sum "$f" | cut -d' ' -f1); mtime[$(basename "$f")]=$(stat -c %Y "$f"); done
pf_own "$stage"; mv "$stage/xfs" "$inbox/xfs"
ok "cross-filesystem files ingested" wait_for 30 sql_is "SELECT count(*) FROM photofactory.media_assets WHERE original_path LIKE '$inbox/xfs/%'" 3
for n in "${!sha[@]}"; do
  p=$(sql "SELECT final_path FROM photofactory.media_assets WHERE original_path = '$inbox/xfs/$n'")
  is "$(sha256sum "$p" 2>/dev/null | cut -d' ' -f1)" "${sha[$n]}" "$n: copy on the other filesystem has the same content"
  is "$(stat -c %Y "$p" 2>/dev/null)" "${mtime[$n]}" "$n: copy keeps the original mtime"
done
ok "sources released only after the verified copy" test -z "$(ls -A "$inbox/xfs" 2>/dev/null)"
ok "no temporary copies left" test -z "$(find "$small" -name '.pf-incoming-*')"

# An inbox folder the server may read but not write: the source could never be
# released after copying, so no copy is made (no orphan in the library per
# retry); the file stays, and is ingested once the folder is fixed.
mkdir -p "$stage/ro"
convert -size 40x30 xc:gray "$stage/ro/IMG_20150505_050505.jpg"; touch -d '-1 minute' "$stage/ro/IMG_20150505_050505.jpg"
# Originals and the other ledger folders only: the thumbnailer writes renditions meanwhile.
lib_files() { find "$small" -type f -not -path "$small/Thumbnails/*" | wc -l; }
files_before=$(lib_files)
log_from=$(( $(stat -c %s "$PF_TEST_RUN/log/server.log") + 1 ))
mv "$stage/ro" "$inbox/ro"   # root's folder, 0755: readable, not writable for postgres
ok "read-only inbox folder: the failure is logged" wait_for 30 bash -c \
  "tail -c +$log_from '$PF_TEST_RUN/log/server.log' | grep -q 'could not ingest \"$inbox/ro/IMG_20150505_050505.jpg\".*not writable'"
is "$(lib_files)" "$files_before" "read-only inbox folder: nothing copied into the library"
ok "read-only inbox folder: the file stays" test -f "$inbox/ro/IMG_20150505_050505.jpg"
chown -R postgres: "$inbox/ro"
ok "read-only inbox folder: ingested once writable" wait_for 30 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_path = '$inbox/ro/IMG_20150505_050505.jpg'" 1
is "$(( $(lib_files) - files_before ))" "1" "read-only inbox folder: exactly one file added to the library"

# Fill it: three 2.5 MB photos into ~6 MB minus what is there.
mkdir -p "$stage/big"
for i in 1 2 3; do
  { printf '\xff\xd8\xff\xe0'; head -c 2600000 /dev/urandom; } >"$stage/big/IMG_2016060${i}_060606.jpg"
done
declare -A bigsha
for f in "$stage/big"/*.jpg; do bigsha[$(basename "$f")]=$(sha256sum "$f" | cut -d' ' -f1); done
touch -d '-1 minute' "$stage/big"/*.jpg
pf_own "$stage"; mv "$stage/big" "$inbox/big"
ok "librarian pauses with ERROR when storage is full" wait_for 30 sql_is \
  "SELECT bool_or(status = 'ERROR' AND current_task LIKE '%Paused: storage is full%') FROM photofactory.system_status WHERE service_name = 'librarian'" t
ok "no partial copy left on the full filesystem" test -z "$(find "$small" -name '.pf-incoming-*')"
left_ok=1
for f in "$inbox/big"/*.jpg; do
  [ "$(sha256sum "$f" | cut -d' ' -f1)" = "${bigsha[$(basename "$f")]}" ] || left_ok=0
done
ok "files still in the inbox are intact" test $left_ok -eq 1
is "$(sql "SELECT count(*) FROM photofactory.ingest_journal")" "0" "no journal entry left behind"

# Space returns: ingestion resumes by itself (retry every 30 s).
mount -o remount,size=64m "$small"
ok "ingestion resumes once space returns" wait_for 60 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_path LIKE '$inbox/big/%'" 3
for n in "${!bigsha[@]}"; do
  is "$(sql "SELECT file_hash FROM photofactory.media_assets WHERE original_path = '$inbox/big/$n'")" "${bigsha[$n]}" "$n: ingested complete"
done
ok "status back to OK (a paused librarian retries every 30 s)" wait_for 45 sql_is \
  "SELECT bool_and(status = 'OK') FROM photofactory.system_status WHERE service_name = 'librarian'" t
rm -rf "$stage"
pf_summary
