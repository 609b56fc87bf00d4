#!/usr/bin/env bash
# End to end: the filesystem promises of issue #10 against a live cluster.
# Overlapping inbox/library refused (settings and worker guard, also through
# a link); ingest_file() takes exactly what the scan takes; inspect_file() reads
# only below the roots for the operator and stops at statement_timeout;
# photofactory.max_file_size rejects with a reason; a library folder the
# server cannot write pauses ingestion instead of rejecting good photos;
# photofactory.storage_mode; hard links are copied; inbox and library renamed
# and recreated under the librarian are followed.
source "$(dirname "$0")/lib/assert.sh"

log=$PF_TEST_RUN/log/server.log
reload() { sql "SELECT pg_reload_conf()" >/dev/null; sleep 1.5; }
set_conf() { sql "ALTER SYSTEM SET $1 = '$2'" >/dev/null; }
librarian_status_like() {
  sql_is "SELECT bool_or(current_task LIKE '$1') FROM photofactory.system_status WHERE service_name = 'librarian'" t
}
all_ok() { sql_is "SELECT bool_and(status = 'OK') FROM photofactory.system_status WHERE service_name = 'librarian'" t; }

stage=$(mktemp -d "$PF_TEST_RUN/stage70.XXXXXX")
outside=$(mktemp -d "$PF_TEST_RUN/outside70.XXXXXX")
chmod 755 "$stage" "$outside"
n=0
photo() {  # photo PATH EXIF-DATE: a distinct small JPEG with that capture date
  n=$((n + 1))
  mkdir -p "$(dirname "$1")"
  convert -size 24x16 "xc:rgb($((n * 7 % 255)),90,$((n * 13 % 255)))" -quality 70 "$1"
  exiftool -q -overwrite_original "-DateTimeOriginal=$2" "$1"
  printf 'safety-70-%04d' "$n" >>"$1"
  touch -d '-1 minute' "$1"
}
cleanup() {
  for s in storage_dir inbox_dir storage_mode max_file_size ingest_enabled; do
    sql "ALTER SYSTEM RESET photofactory.$s" >/dev/null 2>&1
  done
  sql "SELECT pg_reload_conf()" >/dev/null 2>&1
  chmod -R u+w "$storage" 2>/dev/null
}
trap cleanup EXIT

# ---- item 5: the library inside the inbox (or the reverse) is refused
err=$(sql "ALTER SYSTEM SET photofactory.storage_dir = '$inbox/library'" 2>&1)
ok "storage_dir inside inbox_dir refused by the setting" grep -q "overlaps photofactory.inbox_dir" <<<"$err"
err=$(sql "ALTER SYSTEM SET photofactory.inbox_dir = '$storage/Originals/'" 2>&1)
ok "inbox_dir inside storage_dir refused by the setting" grep -q "overlaps photofactory.storage_dir" <<<"$err"
# Through a link the names do not show it: the librarians' guard does.
mkdir -p "$inbox/.e2e70-lib"; pf_own "$inbox/.e2e70-lib"
ln -sfn "$inbox/.e2e70-lib" "$PF_TEST_RUN/liblink70"
set_conf photofactory.storage_dir "$PF_TEST_RUN/liblink70"; reload
ok "library reached through a link into the inbox: librarians refuse" wait_for 20 \
  librarian_status_like '%Refusing to ingest: photofactory.storage_dir%inside photofactory.inbox_dir%'
ok "the refusal is logged with a hint" grep -q "not ingesting: photofactory.storage_dir" "$log"
photo "$stage/g/IMG_guard.jpg" '2001:01:01 01:01:01'; pf_own "$stage/g"; mv "$stage/g" "$inbox/g70"
sleep 3
ok "nothing ingested while refused" test -f "$inbox/g70/IMG_guard.jpg"
ok "nothing stored inside the inbox" test -z "$(ls -A "$inbox/.e2e70-lib")"
sql "ALTER SYSTEM RESET photofactory.storage_dir" >/dev/null; reload
ok "back to work once the folders are separate" wait_for 30 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_path = '$inbox/g70/IMG_guard.jpg'" 1
rm -rf "$inbox/.e2e70-lib" "$PF_TEST_RUN/liblink70"

# ---- item 7: ingest_file() applies the scan's rules, regular files only
set_conf photofactory.ingest_enabled off; reload
req=$stage/req
photo "$req/album/IMG_a.jpg" '2002:02:02 02:02:02'
photo "$req/IMG_ok.jpg" '2002:02:02 02:02:03'
mkdir -p "$req/.stfolder"
photo "$req/.syncthing.IMG_t.jpg.tmp" '2002:02:02 02:02:04'
ln -s /etc/passwd "$req/passwd.jpg"
pf_own "$req"; mv "$req" "$inbox/req70"
for p in "album" ".stfolder" ".syncthing.IMG_t.jpg.tmp" "album/.." "passwd.jpg" "./IMG_ok.jpg"; do
  err=$(sql "SELECT * FROM photofactory.ingest_file('$inbox/req70/$p')" 2>&1)
  ok "ingest_file refuses req70/$p" grep -q "cannot ingest" <<<"$err"
done
ok "the refused folder is untouched" test -f "$inbox/req70/album/IMG_a.jpg"
ok ".stfolder is untouched" test -d "$inbox/req70/.stfolder"
ok "the Syncthing temporary is untouched" test -f "$inbox/req70/.syncthing.IMG_t.jpg.tmp"
is "$(sql "SELECT outcome FROM photofactory.ingest_file('$inbox/req70/IMG_ok.jpg')")" "ingested" \
  "ingest_file still ingests a regular file"
is "$(sql "SELECT count(*) FROM photofactory.inbox_events WHERE original_path LIKE '$inbox/req70/%' AND outcome = 'rejected'")" "0" \
  "nothing of req70 was rejected"
rm -rf "$inbox/req70/.syncthing.IMG_t.jpg.tmp" "$inbox/req70/.stfolder"   # test-owned fixtures

# ---- item 11: inspect_file reads only below the roots for the operator
photo "$outside/IMG_out.jpg" '2003:03:03 03:03:03'; chmod 644 "$outside/IMG_out.jpg"
mkdir -p "$inbox/.e2e70"
photo "$inbox/.e2e70/IMG_in.jpg" '2003:03:03 03:03:04'
ln -sfn "$outside" "$inbox/.e2e70/linked"
pf_own "$inbox/.e2e70"
as_operator() { sql "SET ROLE photofactory_operator; SELECT photofactory.inspect_file('$1')->>'date_source'" 2>&1; }
is "$(as_operator "$inbox/.e2e70/IMG_in.jpg")" "exif_original" "operator: inspect_file of an inbox file works"
ok "operator: a file outside the roots is refused" grep -q "reads only files below" <<<"$(as_operator "$outside/IMG_out.jpg")"
ok "operator: /proc/self/root/... is refused" grep -q "reads only files below" \
  <<<"$(as_operator "/proc/self/root$outside/IMG_out.jpg")"
ok "operator: a linked folder inside the inbox is not followed" grep -q "symbolic link" \
  <<<"$(as_operator "$inbox/.e2e70/linked/IMG_out.jpg")"
ok "operator: '..' is refused" grep -q "are refused" <<<"$(as_operator "$inbox/.e2e70/../.e2e70/IMG_in.jpg")"
is "$(sql "SELECT photofactory.inspect_file('$outside/IMG_out.jpg')->>'date_source'")" "exif_original" \
  "a superuser (pg_read_server_files) may still inspect any file"
ok "below the roots even a superuser's call never follows a linked folder" grep -q "symbolic link" \
  <<<"$(sql "SELECT photofactory.inspect_file('$inbox/.e2e70/linked/IMG_out.jpg')" 2>&1)"

err=$(sql "SET ROLE photofactory_operator; SELECT photofactory.adopt_orphan('/etc/passwd')" 2>&1)
ok "adopt_orphan refuses paths outside Originals/" grep -q "only files under" <<<"$err"
ok "adopt_orphan's refusal does not disclose the library path" bash -c "! grep -qF '$storage' <<<\"\$1\"" _ "$err"

# ---- item 10: bounded work per file
printf '\xff\xd8\xff\xe0' >"$inbox/.e2e70/huge.jpg"; truncate -s 20G "$inbox/.e2e70/huge.jpg"; pf_own "$inbox/.e2e70"
err=$(sql "SET statement_timeout = '300ms'; SELECT photofactory.inspect_file('$inbox/.e2e70/huge.jpg')" 2>&1)
ok "inspect_file of a 20 GB file stops at statement_timeout" grep -q "statement timeout" <<<"$err"
rm -f "$inbox/.e2e70/huge.jpg"
set_conf photofactory.max_file_size 1MB; sql "ALTER SYSTEM RESET photofactory.ingest_enabled" >/dev/null; reload
mkdir -p "$stage/big"; { printf '\xff\xd8\xff\xe0'; head -c 2000000 /dev/urandom; } >"$stage/big/IMG_big.jpg"
touch -d '-1 minute' "$stage/big/IMG_big.jpg"; pf_own "$stage/big"; mv "$stage/big" "$inbox/big70"
ok "a file above photofactory.max_file_size is rejected with the reason" wait_for 30 sql_is \
  "SELECT count(*) FROM photofactory.inbox_events WHERE original_path = '$inbox/big70/IMG_big.jpg' AND outcome = 'rejected' AND reason LIKE 'too_large%'" 1
sql "ALTER SYSTEM RESET photofactory.max_file_size" >/dev/null; reload

# ---- item 9: a library folder the server cannot write pauses, never rejects
mkdir -p "$storage/Originals/2004/2004-04-04"; pf_own "$storage/Originals/2004"
chmod 555 "$storage/Originals/2004/2004-04-04"
log_from=$(( $(stat -c %s "$log") + 1 ))
photo "$stage/p/IMG_perm.jpg" '2004:04:04 04:04:04'; pf_own "$stage/p"; mv "$stage/p" "$inbox/perm70"
ok "unwritable library folder: ingestion pauses (status ERROR)" wait_for 30 \
  librarian_status_like '%Paused: storage is full, read-only or not writable%'
ok "unwritable library folder: not counted as the file's failure" \
  bash -c "! tail -c +$log_from '$log' | grep -q 'could not ingest \"perm70/IMG_perm.jpg\" (attempt'"
ok "unwritable library folder: the photo stays in the inbox" test -f "$inbox/perm70/IMG_perm.jpg"
is "$(sql "SELECT count(*) FROM photofactory.inbox_events WHERE original_path = '$inbox/perm70/IMG_perm.jpg'")" "0" \
  "unwritable library folder: nothing rejected"
chmod 755 "$storage/Originals/2004/2004-04-04"
ok "ingested once the folder is writable again" wait_for 60 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_path = '$inbox/perm70/IMG_perm.jpg' AND final_path LIKE '%/Originals/2004/2004-04-04/%'" 1
ok "status back to OK" wait_for 45 all_ok

# ---- item 12: photofactory.storage_mode
err=$(sql "ALTER SYSTEM SET photofactory.storage_mode = '0070'" 2>&1)
ok "storage_mode without owner rwx is refused" grep -q "invalid value" <<<"$err"
set_conf photofactory.storage_mode 0750; reload
is "$(sql "SHOW photofactory.storage_mode")" "0750" "storage_mode is shown in octal"
# 1987: a year no other test stores, so both folders are new here.
photo "$stage/m/IMG_mode.jpg" '1987:06:07 05:06:07'; chmod 600 "$stage/m/IMG_mode.jpg"; pf_own "$stage/m"; mv "$stage/m" "$inbox/mode70"
ok "photo ingested with storage_mode 0750" wait_for 30 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_path = '$inbox/mode70/IMG_mode.jpg'" 1
is "$(stat -c %a "$storage/Originals/1987" "$storage/Originals/1987/1987-06-07" | tr '\n' ' ')" "750 750 " \
  "new library folders are 0750"
is "$(stat -c %a "$(sql "SELECT final_path FROM photofactory.media_assets WHERE original_path = '$inbox/mode70/IMG_mode.jpg'")")" "640" \
  "the stored file is 0640"
sql "ALTER SYSTEM RESET photofactory.storage_mode" >/dev/null; reload

# ---- low: a hard link into the inbox gets its own copy in the library
photo "$outside/IMG_hl.jpg" '2006:06:06 06:06:06'; pf_own "$outside"
hl_sha=$(sha256sum "$outside/IMG_hl.jpg" | cut -d' ' -f1)
mkdir -p "$inbox/hl70"; ln "$outside/IMG_hl.jpg" "$inbox/hl70/IMG_hl.jpg"; pf_own "$inbox/hl70"
ok "hard-linked photo ingested" wait_for 30 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_path = '$inbox/hl70/IMG_hl.jpg'" 1
hl_final=$(sql "SELECT final_path FROM photofactory.media_assets WHERE original_path = '$inbox/hl70/IMG_hl.jpg'")
ok "the library file does not share the inode" test "$(stat -c %i "$hl_final")" != "$(stat -c %i "$outside/IMG_hl.jpg")"
is "$(stat -c %h "$hl_final")/$(stat -c %h "$outside/IMG_hl.jpg")" "1/1" "one link each: library copy and the file outside"
is "$(sha256sum "$outside/IMG_hl.jpg" | cut -d' ' -f1)" "$hl_sha" "the file outside is unchanged"

# ---- item 8: inbox and library renamed and recreated under the librarians
mv "$inbox" "$inbox.moved70"; mkdir "$inbox"; pf_own "$inbox"
photo "$stage/pin/IMG_pin.jpg" '2007:07:07 07:07:07'; pf_own "$stage/pin"; mv "$stage/pin" "$inbox/pin70"
ok "a recreated inbox is followed" wait_for 30 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_path = '$inbox/pin70/IMG_pin.jpg'" 1
ok "the reopening is logged" grep -q "photofactory.inbox_dir (.*) no longer leads to the folder in use" "$log"
mv "$storage" "$storage.moved70"; mkdir "$storage"; pf_own "$storage"
photo "$stage/pin2/IMG_pin2.jpg" '2007:07:08 07:07:07'; pf_own "$stage/pin2"; mv "$stage/pin2" "$inbox/pin70b"
ok "a recreated library is followed" wait_for 30 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_path = '$inbox/pin70b/IMG_pin2.jpg'" 1
pin2=$(sql "SELECT final_path FROM photofactory.media_assets WHERE original_path = '$inbox/pin70b/IMG_pin2.jpg'")
ok "the file is where the ledger says" test -f "$pin2"
ok "nothing went into the old library tree" test ! -e "$storage.moved70/Originals/2007/2007-07-08"
# Put the trees back for whatever runs next (the new files merged into the old trees).
cp -a "$storage/." "$storage.moved70/" && rm -rf "$storage" && mv "$storage.moved70" "$storage"
rm -rf "$inbox/pin70" "$inbox/pin70b"; rmdir "$inbox" 2>/dev/null && mv "$inbox.moved70" "$inbox"
ok "librarians settle on the restored folders" wait_for 30 all_ok

ok "no worker crashed (exit by signal)" test -z "$(grep -a 'photofactory.*terminated by signal' "$log" | grep -v 'signal 9: Killed')"
rm -rf "$stage" "$outside" "$inbox/.e2e70" "$inbox/g70" "$inbox/req70" "$inbox/perm70" "$inbox/mode70" "$inbox/hl70" "$inbox/big70"
pf_summary
