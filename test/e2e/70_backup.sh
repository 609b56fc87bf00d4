#!/usr/bin/env bash
# End to end: the backup service (issue #14) against the live cluster. Two
# targets on tmpfs mounts (one of 2 MB: full, paused, resumed after it is
# enlarged); files ingested then backed up and verified on both; a missing
# marker skips a target without writing to it; a corrupted copy is found by
# the scrub and healed; a corrupted original is never copied; originals are
# restored; kill -9 leaves no counted half copy and no temporaries.
source "$(dirname "$0")/lib/assert.sh"
if [ "$(id -u)" -ne 0 ]; then echo "# skipped: the tmpfs targets need root"; pf_summary; exit; fi

bk=$(mktemp -d "$PF_TEST_RUN/backup.XXXXXX")
ta=$bk/a tb=$bk/b aside=$bk/aside stage=$bk/stage
mkdir -p "$ta" "$tb" "$aside" "$stage"
marker=.photofactory-backup-target
cleanup_backup() {
  sql "SELECT photofactory.retire_backup_target(name) FROM photofactory.backup_targets WHERE enabled" >/dev/null 2>&1
  umount "$ta" 2>/dev/null; umount "$tb" 2>/dev/null
}
trap cleanup_backup EXIT
mount -t tmpfs -o size=1g,mode=0755 pf-backup-a "$ta"
mount -t tmpfs -o size=2m,mode=0755 pf-backup-b "$tb"
pf_own "$bk"

fails_with() {  # fails_with SQL TEXT: the statement raises and its message contains TEXT
  local out
  out=$(sql "$1" 2>&1) && return 1
  [[ "$out" == *"$2"* ]]
}
mine() { echo "SELECT id FROM photofactory.media_assets WHERE original_path LIKE '$inbox/bk70%'"; }
asset_of() { sql "SELECT id FROM photofactory.media_assets WHERE original_name = '$1' AND original_path LIKE '$inbox/bk70%'"; }
path_of() { sql "SELECT final_path FROM photofactory.media_assets WHERE id = '$1'"; }
hash_of() { sql "SELECT file_hash FROM photofactory.media_assets WHERE id = '$1'"; }
copies_on() {  # ok copies of my assets' files on target $1
  sql "SELECT count(*) FROM photofactory.asset_copies c JOIN photofactory.backup_targets t ON t.id = c.target_id
        WHERE t.name = '$1' AND c.status = 'ok' AND c.asset_id IN ($(mine))"
}
# Every copy the ledger counts on an enabled target is on disk with the recorded hash.
all_copies_verify() {
  local path rel hash bad=0
  while IFS='|' read -r path rel hash; do
    [ "$(sha256sum "$path/$rel" 2>/dev/null | cut -d' ' -f1)" = "$hash" ] || { echo "bad copy $path/$rel"; bad=1; }
  done < <(sql "SELECT t.path, c.relative_path, c.file_hash FROM photofactory.asset_copies c
                  JOIN photofactory.backup_targets t ON t.id = c.target_id WHERE t.enabled AND c.status = 'ok'")
  return $bad
}
temporaries() { find "$ta" "$tb" "$storage" -regextype posix-extended -regex '.*/\.pf-backup-[0-9a-f]{16}\.tmp' | wc -l; }
drop() {  # drop FOLDER NAME...: fresh photos, settled, moved into the inbox at once
  local dir=$1 f; shift
  mkdir -p "$stage/$dir"
  for f in "$@"; do convert -size 600x600 xc: +noise Random -quality 95 "$stage/$dir/$f"; done
  find "$stage/$dir" -type f -exec touch -d '-1 minute' {} +
  pf_own "$stage/$dir"
  mv "$stage/$dir" "$inbox/$dir"
}
ingested() { sql_is "SELECT count(*) FROM photofactory.media_assets WHERE original_path LIKE '$inbox/$1/%'" "$2"; }
backed_up() {  # all my assets but the one whose original is corrupted on purpose
  sql_is "SELECT count(*) FILTER (WHERE NOT is_backed_up) FROM photofactory.media_assets
           WHERE id IN ($(mine)) AND original_name <> 'BK_7.jpg'" 0
}
state_is() { sql_is "SELECT state FROM photofactory.backup_targets WHERE name = '$1'" "$2"; }
task_like() { sql_is "SELECT status || ' ' || (current_task LIKE '$1') FROM photofactory.system_status WHERE service_name = 'backup'" "WARNING true"; }
event_for() { sql_is "SELECT count(*) > 0 FROM photofactory.backup_events WHERE event = '$1' AND asset_id = '$2'" t; }

# --- bad input --------------------------------------------------------------
ok "a relative path is refused" fails_with "SELECT photofactory.add_backup_target('r', 'backup/here')" "must be absolute"
ok "a missing folder is refused" fails_with "SELECT photofactory.add_backup_target('m', '$bk/nope')" "does not exist"
mkdir -p "$storage/bk70"
ok "a folder inside Storage is refused" fails_with "SELECT photofactory.add_backup_target('s', '$storage/bk70')" "inside Storage"
rmdir "$storage/bk70"
ok "a folder holding Storage is refused" fails_with "SELECT photofactory.add_backup_target('s', '$PF_TEST_RUN')" "contains Storage"
ok "the inbox is refused" fails_with "SELECT photofactory.add_backup_target('i', '$inbox')" "inbox"
ok "a NULL name raises" fails_with "SELECT photofactory.add_backup_target(NULL, '$ta')" "must not be NULL"
ok "retiring an unknown target raises" fails_with "SELECT photofactory.retire_backup_target('nope')" "no backup target named"
ok "retiring NULL raises" fails_with "SELECT photofactory.retire_backup_target(NULL)" "must not be NULL"
is "$(sql "SELECT has_function_privilege('public', 'photofactory.add_backup_target(text,text)', 'EXECUTE')
           OR has_function_privilege('public', 'photofactory.restore_all(text)', 'EXECUTE')
           OR has_function_privilege('public', 'photofactory._backup_restore_file(text,uuid,text,text,text)', 'EXECUTE')")" \
  f "nothing that touches files is executable by PUBLIC"
mkdir -p "$bk/local" && pf_own "$bk/local"
out=$(sql "SELECT photofactory.add_backup_target('local', '$bk/local')" 2>&1)
ok "a target on the Storage disk is accepted with a WARNING" grep -q "WARNING:.*same disk as Storage" <<<"$out"
sql "SELECT photofactory.retire_backup_target('local')" >/dev/null
ok "a retired target's name stays taken" fails_with "SELECT photofactory.add_backup_target('local', '$bk/local')" "exists already"

# --- two targets, one too small ----------------------------------------------
sql "SELECT photofactory.add_backup_target('a', '$ta')" >/dev/null
sql "SELECT photofactory.add_backup_target('b', '$tb')" >/dev/null
is "$(sed -n 's/^id=//p' "$ta/$marker")" "$(sql "SELECT id FROM photofactory.backup_targets WHERE name = 'a'")" \
  "the marker names the target's id"
ok "the marker of a is not b's" fails_with "SELECT photofactory.add_backup_target('b2', '$ta')" "is a backup target already"

drop bk70 BK_1.jpg BK_2.jpg BK_3.jpg BK_4.jpg BK_5.jpg
printf '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>\n' >"$stage/BK_1.jpg.xmp"
touch -d '-1 minute' "$stage/BK_1.jpg.xmp" && pf_own "$stage/BK_1.jpg.xmp" && mv "$stage/BK_1.jpg.xmp" "$inbox/bk70/"
ok "wave 1 ingested (5 photos)" wait_for 60 ingested bk70 5
ok "the sidecar joined its photo" wait_for 60 sql_is \
  "SELECT count(*) FROM photofactory.asset_sidecars WHERE original_path LIKE '$inbox/bk70/%'" 1
copies_are() { [ "$(copies_on "$1")" = "$2" ]; }
ok "a holds verified copies of the 5 photos and the sidecar" wait_for 90 copies_are a 6
ok "b (2 MB) is paused: disk full" wait_for 90 state_is b paused
ok "the service says so (WARNING, b PAUSED)" wait_for 30 task_like '%b PAUSED (%'
ok "wave 1 is not all backed up while b is full" sql_is \
  "SELECT count(*) FILTER (WHERE NOT is_backed_up) > 0 FROM photofactory.media_assets WHERE id IN ($(mine))" t
is "$(sql "SELECT count(*) FROM photofactory.media_assets WHERE id IN ($(mine))
             AND is_backed_up AND NOT photofactory._backup_complete(id)")" 0 \
  "an asset is backed up only with verified copies of it and its sidecars on both targets"
is "$(temporaries)" 0 "no temporaries left on the full target"
ok "every counted copy verifies on disk" all_copies_verify

mount -o remount,size=1g "$tb"
ok "b resumes by itself once enlarged: wave 1 backed up" wait_for 120 backed_up
ok "b holds the 6 copies" copies_are b 6
is "$(sql "SELECT state FROM photofactory.backup_targets WHERE name = 'b'")" ok "b is ok again"
id1=$(asset_of BK_1.jpg)
rel1=$(sql "SELECT c.relative_path FROM photofactory.asset_copies c JOIN photofactory.backup_targets t ON t.id = c.target_id
             WHERE t.name = 'a' AND c.asset_id = '$id1' AND c.sidecar_id IS NULL")
is "$rel1" "$(path_of "$id1" | sed "s|^$storage/||")" "the copy keeps the Originals/{YYYY}/{YYYY-MM-DD}/ layout"
is "$(sha256sum "$tb/$rel1" | cut -d' ' -f1)" "$(hash_of "$id1")" "the copy on b hashes to the ledger's value"
ok "the sidecar is on both targets" test -f "$ta/$rel1.xmp" -a -f "$tb/$rel1.xmp"
ok "backup_report shows both targets" sql_is "SELECT string_agg(target || ':' || state, ',' ORDER BY target)
  FROM photofactory.backup_report() WHERE enabled" "a:ok,b:ok"

# --- a missing marker: skipped, never written, resumes -------------------------
mv "$ta/$marker" "$aside/"
files_a=$(find "$ta" -type f | wc -l)
drop bk70b BK_6.jpg
ok "wave 2 ingested" wait_for 60 ingested bk70b 1
id6=$(asset_of BK_6.jpg)
ok "a is skipped: marker missing" wait_for 60 state_is a skipped
ok "WARNING naming a and why" wait_for 30 task_like '%a SKIPPED (marker missing%'
ok "b still gets the new file" wait_for 60 sql_is "SELECT count(*) FROM photofactory.asset_copies c
  JOIN photofactory.backup_targets t ON t.id = c.target_id WHERE t.name = 'b' AND c.asset_id = '$id6'" 1
is "$(find "$ta" -type f | wc -l)" "$files_a" "nothing was written to a without its marker"
is "$(sql "SELECT is_backed_up FROM photofactory.media_assets WHERE id = '$id6'")" f "not backed up without a"
mv "$aside/$marker" "$ta/"
ok "a resumes by itself when its marker is back" wait_for 60 backed_up
ok "the skip is in the audit trail" sql_is "SELECT count(*) > 0 FROM photofactory.backup_events WHERE event = 'target_skipped' AND target_name = 'a'" t

# --- a read-only target: paused, resumes when writable again -------------------
mount -o remount,ro "$tb"
drop bk70ro BK_12.jpg
ok "wave ro ingested" wait_for 60 ingested bk70ro 1
ok "b is paused: read-only" wait_for 60 sql_is \
  "SELECT state || ' ' || (state_detail LIKE '%Read-only file system%') FROM photofactory.backup_targets WHERE name = 'b'" "paused true"
ok "a still gets the new file" wait_for 60 sql_is "SELECT count(*) FROM photofactory.asset_copies c
  JOIN photofactory.backup_targets t ON t.id = c.target_id WHERE t.name = 'a' AND c.asset_id = '$(asset_of BK_12.jpg)'" 1
mount -o remount,rw "$tb"
ok "b resumes by itself once writable" wait_for 60 backed_up
ok "the pause is in the audit trail once" sql_is \
  "SELECT count(*) FROM photofactory.backup_events WHERE event = 'target_paused' AND target_name = 'b' AND detail LIKE '%Read-only%'" 1

# --- scrub: a corrupted copy is found and healed -------------------------------
printf 'XXXX' | dd of="$ta/$rel1" bs=1 seek=300 conv=notrunc status=none
sql "SELECT photofactory.start_backup_scrub('a')" >/dev/null
ok "the scrub finds the corrupted copy" wait_for 60 event_for copy_corrupt "$id1"
ok "and heals it from the original" wait_for 60 event_for copy_healed "$id1"
ok "the healed copy hashes to the ledger's value" wait_for 30 test "$(sha256sum "$ta/$rel1" | cut -d' ' -f1)" = "$(hash_of "$id1")"
ok "wave 1 is backed up again" wait_for 60 backed_up
ok "scrub progress is visible" sql_is "SELECT scrub LIKE '%verified%' FROM photofactory.backup_report() WHERE target = 'a'" t

# --- a corrupted original is never copied ------------------------------------
mv "$ta/$marker" "$aside/a"; mv "$tb/$marker" "$aside/b"
drop bk70c BK_7.jpg
ok "wave 3 ingested" wait_for 60 ingested bk70c 1
id7=$(asset_of BK_7.jpg)
printf 'rot!' | dd of="$(path_of "$id7")" bs=1 seek=400 conv=notrunc status=none
mv "$aside/a" "$ta/$marker"; mv "$aside/b" "$tb/$marker"
ok "the corrupt original is an error on the asset" wait_for 60 sql_is \
  "SELECT has_errors AND error_message LIKE 'backup:%corrupt%' FROM photofactory.media_assets WHERE id = '$id7'" t
ok "reported in the audit trail" event_for original_corrupt "$id7"
is "$(sql "SELECT count(*) FROM photofactory.asset_copies WHERE asset_id = '$id7'")" 0 "no copy recorded"
is "$(find "$ta" "$tb" -name 'BK_7*' | wc -l)" 0 "no copy written"
ok "it cannot be restored (no copy)" sql_is "SELECT outcome FROM photofactory.restore_original('$id7')" failed

# --- restoring originals -----------------------------------------------------
id2=$(asset_of BK_2.jpg); p2=$(path_of "$id2")
rm "$p2"
ok "restore_original puts back a deleted original" sql_is \
  "SELECT outcome FROM photofactory.restore_original('$id2') WHERE file = '$p2'" restored
is "$(sha256sum "$p2" | cut -d' ' -f1)" "$(hash_of "$id2")" "the restored original hashes to the ledger's value"
ok "the restore is in the audit trail" event_for restored "$id2"
ok "a second restore finds it intact" sql_is "SELECT outcome FROM photofactory.restore_original('$id2') WHERE file = '$p2'" present
id3=$(asset_of BK_3.jpg); p3=$(path_of "$id3")
printf 'rot!' | dd of="$p3" bs=1 seek=400 conv=notrunc status=none
ok "a corrupt original is restored" sql_is "SELECT outcome FROM photofactory.restore_original('$id3') WHERE file = '$p3'" restored
is "$(sha256sum "$p3" | cut -d' ' -f1)" "$(hash_of "$id3")" "with the right content"
ok "the damaged file is kept under Storage/Corrupt/" test -f "$storage/Corrupt/${p3#"$storage/"}"
id4=$(asset_of BK_4.jpg); p4=$(path_of "$id4")
rm "$p4"
ok "restore_all rebuilds what is missing from a target" sql_is \
  "SELECT string_agg(outcome, ',') FROM photofactory.restore_all('b') WHERE asset_id IN ($(mine))" restored
is "$(sha256sum "$p4" | cut -d' ' -f1)" "$(hash_of "$id4")" "restore_all's file is right"

# --- opt-in automatic restore of what verification finds missing ---------------
id5=$(asset_of BK_5.jpg); p5=$(path_of "$id5")
rm "$p5"
sql "ALTER SYSTEM SET photofactory.backup_auto_restore = on" >/dev/null; sql "SELECT pg_reload_conf()" >/dev/null
sql "SELECT count(*) FROM photofactory.verify_assets(1000000)" >/dev/null
ok "the verifier's finding is restored automatically" wait_for 60 event_for restored "$id5"
ok "with the right content" wait_for 10 test "$(sha256sum "$p5" 2>/dev/null | cut -d' ' -f1)" = "$(hash_of "$id5")"
sql "ALTER SYSTEM RESET photofactory.backup_auto_restore" >/dev/null; sql "SELECT pg_reload_conf()" >/dev/null

# --- kill -9: no counted half copy, no temporaries -----------------------------
mv "$ta/$marker" "$aside/a"; mv "$tb/$marker" "$aside/b"
drop bk70d BK_8.jpg BK_9.jpg BK_10.jpg BK_11.jpg
ok "wave 4 ingested" wait_for 60 ingested bk70d 4
mkdir -p "$ta/Originals/2020/2020-01-01"
echo half >"$ta/Originals/2020/2020-01-01/.pf-backup-0123456789abcdef.tmp"
echo mine >"$ta/Originals/2020/2020-01-01/.pf-backup-notours.tmp"
pf_own "$ta/Originals/2020"
mv "$aside/a" "$ta/$marker"; mv "$aside/b" "$tb/$marker"
pid=$(sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'photofactory backup'")
[ -n "$pid" ] && kill -9 "$pid"
sleep 1
wait_for 60 sql "SELECT 1" >/dev/null
ok "after the crash, wave 4 is backed up" wait_for 120 backed_up
ok "the temporary of the interrupted copy is gone" test ! -e "$ta/Originals/2020/2020-01-01/.pf-backup-0123456789abcdef.tmp"
ok "a file that only looks like one is kept" test -f "$ta/Originals/2020/2020-01-01/.pf-backup-notours.tmp"
is "$(temporaries)" 0 "no temporaries anywhere"
ok "every counted copy verifies on disk" all_copies_verify
is "$(sql "SELECT count(*) FROM photofactory.asset_copies c JOIN photofactory.backup_targets t ON t.id = c.target_id
           WHERE t.enabled AND c.asset_id IN ($(mine))")" 24 "one copy per file per target (11 photos + 1 sidecar, twice; BK_7 none)"

# --- retiring ------------------------------------------------------------------
sql "SELECT photofactory.retire_backup_target('a')" >/dev/null
sql "SELECT photofactory.retire_backup_target('b')" >/dev/null
ok "with every target retired the service says it is off" wait_for 30 sql_is \
  "SELECT current_task FROM photofactory.system_status WHERE service_name = 'backup'" "Off: no backup target enabled"
pf_summary
