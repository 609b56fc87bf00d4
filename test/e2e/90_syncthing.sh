#!/usr/bin/env bash
# End to end with real Syncthing (Debian's package): a "phone" instance shares
# a send-only folder with the server instance, whose receive-only folder lies
# in the inbox. Photos, a Live Photo pair and a large video (transferred
# slowly: the server's receive rate is capped) arrive and are ingested exactly
# once, never as partial files; the `syncthing` service row follows the
# instances: OK while both run, WARNING when the phone has been away longer
# than the (shortened) threshold, ERROR when the server's Syncthing stops,
# with a clear message for a wrong API key. Every process started is stopped.
source "$(dirname "$0")/lib/assert.sh"
command -v syncthing >/dev/null || { echo "syncthing is not installed"; echo "0 passed, 1 failed"; exit 1; }

ST_ROOT=$(mktemp -d "$PF_TEST_RUN/syncthing.XXXX"); chmod 755 "$ST_ROOT"
source "$(dirname "$0")/lib/syncthing.sh"
base=$((30000 + ($(cat "$PF_TEST_RUN/port") % 1000) * 4))
phone_gui=$base server_gui=$((base + 1)) phone_sync=$((base + 2)) server_sync=$((base + 3))
phone_key=phone-key-$RANDOM$RANDOM server_key=server-key-$RANDOM$RANDOM
phone_dir=$ST_ROOT/phone-photos stage=$ST_ROOT/stage target=$inbox/phone
mkdir -p "$phone_dir" "$stage" "$target"; pf_own "$phone_dir" "$stage" "$target"

cleanup() {
  st_stop_all
  local g
  for g in syncthing_url syncthing_api_key syncthing_config syncthing_interval syncthing_device_warning; do
    sql "ALTER SYSTEM RESET photofactory.$g" >/dev/null 2>&1
  done
  sql "SELECT pg_reload_conf()" >/dev/null 2>&1
}
trap cleanup EXIT
reload() { sql "SELECT pg_reload_conf()" >/dev/null; }
setting() { sql "ALTER SYSTEM SET photofactory.$1 = '$2'" >/dev/null; }  # ALTER SYSTEM: one per statement
status_is() {  # status_is STATUS TASK-LIKE-PATTERN
  sql_is "SELECT count(*) FROM photofactory.system_status WHERE service_name = 'syncthing'
            AND status = '$1' AND current_task LIKE '$2'" 1
}
row() { sql "SELECT status || ' | ' || current_task FROM photofactory.system_status WHERE service_name = 'syncthing'"; }

phone_id=$(st_init phone) && server_id=$(st_init server) || { echo "0 passed, 1 failed"; exit 1; }
st_config phone "$phone_gui" "$phone_sync" "$phone_key" "$phone_dir" sendonly "$phone_id" server "$server_id" "$server_sync"
# 4 MB/s into the server: the large video takes seconds, written under a temporary name.
st_config server "$server_gui" "$server_sync" "$server_key" "$target" receiveonly "$server_id" phone "$phone_id" "$phone_sync" \
  "<maxRecvKbps>4000</maxRecvKbps>"

# 1. Turned on while Syncthing is not running: ERROR, unreachable.
setting syncthing_url "http://127.0.0.1:$server_gui"
setting syncthing_api_key "$server_key"
setting syncthing_interval 1s
setting syncthing_device_warning 8s
reload
ok "Syncthing not running: ERROR saying it is unreachable" wait_for 30 status_is ERROR '%unreachable at http://127.0.0.1:%'
row

# 2. Both instances up: OK, the inbox folder up to date, the phone connected.
st_start phone "$phone_gui" && st_start server "$server_gui"
ok "both running: OK, folder up to date, 1 of 1 device connected" \
  wait_for 60 status_is OK 'Syncthing check: folder "Photos" up to date, 1 of 1 device connected%'
row

# 3. Photos from the phone, a Live Photo pair and a 24 MB video.
for i in 1 2 3; do
  convert -size 64x48 "xc:#$(printf '%06x' $((RANDOM * RANDOM % 16777216)))" "$stage/PXL_$i.jpg"
  exiftool -q -overwrite_original "-DateTimeOriginal=2025:07:0$i 12:00:00" "$stage/PXL_$i.jpg"
done
convert -size 64x48 xc:orange "$stage/IMG_0700.HEIC.jpg"
exiftool -q -overwrite_original "-DateTimeOriginal=2025:07:04 23:59:50" "-OffsetTimeOriginal=+02:00" "$stage/IMG_0700.HEIC.jpg"
mv "$stage/IMG_0700.HEIC.jpg" "$stage/IMG_0700.JPG"
perl "$root/scripts/lib/make-mp4.pl" "$stage/IMG_0700.MOV" "2025-07-04 21:59:51" "" 0 "qt  "
perl "$root/scripts/lib/make-mp4.pl" "$stage/VID_0701.mp4" "2025-07-05 08:00:00"
head -c $((24 * 1024 * 1024)) /dev/urandom | perl -e 'local $/; my $d = <STDIN>; print pack("N", 8 + length $d), "free", $d' >>"$stage/VID_0701.mp4"
touch -d '-1 minute' "$stage"/*; pf_own "$stage"
(cd "$stage" && sha256sum -- * | sort -k2) >"$ST_ROOT/phone.sha256"
mv "$stage"/* "$phone_dir/"   # atomic on the phone: Syncthing sees whole files

seen_tmp=0
for _ in $(seq 1 300); do   # up to 60 s
  compgen -G "$target/.syncthing.*" >/dev/null && seen_tmp=1
  [ "$(sql "SELECT count(*) FROM photofactory.media_assets WHERE original_name IN
             ('PXL_1.jpg','PXL_2.jpg','PXL_3.jpg','IMG_0700.JPG','IMG_0700.MOV','VID_0701.mp4')")" = 6 ] && break
  sleep 0.2
done
is "$(sql "SELECT count(*) FROM photofactory.media_assets WHERE original_name IN
             ('PXL_1.jpg','PXL_2.jpg','PXL_3.jpg','IMG_0700.JPG','IMG_0700.MOV','VID_0701.mp4')")" 6 \
  "all six files synced by Syncthing and ingested"
is "$seen_tmp" 1 "the large video was in transit under Syncthing's temporary name for a while"
ledger=$(sql "SELECT file_hash || '  ' || original_name FROM photofactory.media_assets WHERE original_name IN
             ('PXL_1.jpg','PXL_2.jpg','PXL_3.jpg','IMG_0700.JPG','IMG_0700.MOV','VID_0701.mp4') ORDER BY original_name")
is "$ledger" "$(sort -k2 "$ST_ROOT/phone.sha256")" "every ledger hash is the phone's whole file: nothing partial was ingested"
is "$(sql "SELECT count(*) FROM photofactory.inbox_events WHERE original_name LIKE '.syncthing%' OR original_name LIKE '%.tmp'")" 0 \
  "no Syncthing temporary reached the ledger or the audit trail"
is "$(sql "SELECT count(*) FROM photofactory.inbox_events WHERE original_name IN
             ('PXL_1.jpg','PXL_2.jpg','PXL_3.jpg','IMG_0700.JPG','IMG_0700.MOV','VID_0701.mp4') AND outcome <> 'ingested'")" 0 \
  "each file ingested exactly once (no duplicate, no rejection)"
is "$(sql "SELECT m.companion_of = s.id FROM photofactory.media_assets m, photofactory.media_assets s
           WHERE m.original_name = 'IMG_0700.MOV' AND s.original_name = 'IMG_0700.JPG'")" t \
  "the Live Photo's video joined its still"
is "$(sql "SELECT replace(final_path, '$storage/', '') FROM photofactory.media_assets WHERE original_name = 'IMG_0700.MOV'")" \
  "Originals/2025/2025-07-04/IMG_0700.MOV" "and shares its date folder"
ok "the inbox folder is empty again but for Syncthing's marker" \
  wait_for 20 bash -c "[ -z \"\$(find '$target' -mindepth 1 -not -path '$target/.stfolder*' -print -quit)\" ]"
ok "after the sync the check says up to date again" wait_for 30 status_is OK '%"Photos" up to date%'

# 4. The phone goes away: OK while recent, WARNING past the threshold (8 s here).
st_stop phone
ok "phone away past the threshold: WARNING naming it" wait_for 40 status_is WARNING '%device phone last seen%'
row

# 5. The server's Syncthing stops: ERROR.
st_stop server
ok "server's Syncthing stopped: ERROR unreachable" wait_for 30 status_is ERROR '%unreachable%'

# 6. A wrong API key says so; the key read from config.xml works.
st_start server "$server_gui"
setting syncthing_api_key not-the-key; reload
ok "wrong API key: ERROR saying the key was refused" wait_for 30 status_is ERROR '%refused the API key (HTTP 403)%'
row
setting syncthing_api_key ""; setting syncthing_config "$(st_home server)/config.xml"; reload
ok "API key read from Syncthing's config.xml" wait_for 30 status_is WARNING '%"Photos" up to date%'
# PostgreSQL itself logs a changed setting's value on reload ("parameter ... changed
# to ..."): docs/syncthing.md recommends syncthing_config for that reason. The
# check itself must never print the key.
ok "the check never logs the API key" bash -c \
  "! grep -v 'parameter \"photofactory.syncthing_api_key\" changed to' '$PF_TEST_RUN/log/server.log' | grep -q -e '$server_key' -e 'not-the-key'"

# 7. Turned off: the worker goes away (no stale row is refreshed).
setting syncthing_url ""; reload
ok "syncthing_url = '': the check's worker stops" wait_for 30 sql_is \
  "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'photofactory syncthing'" 0

pf_summary
