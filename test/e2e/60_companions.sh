#!/usr/bin/env bash
# End to end: companions travel together. A Live Photo's still and video
# across midnight (the video's UTC time takes the still's offset), a RAW with
# its JPEG and .xmp past a case-insensitive collision, a late video joining its
# stored still, a sidecar that arrives before its photo, one that never gets
# one, and a group held back while Syncthing is still writing a member.
source "$(dirname "$0")/lib/assert.sh"

reload() { sql "SELECT pg_reload_conf()" >/dev/null; sleep 1.5; }
stage=$(mktemp -d "$PF_TEST_RUN/stage60.XXXX")
drop() {  # drop SUBDIR: files staged in $stage/SUBDIR appear in the inbox at once, settled
  touch -d '-1 minute' "$stage/$1"/*
  pf_own "$stage/$1"
  mkdir -p "$inbox/c60"; pf_own "$inbox/c60"
  mv "$stage/$1"/* "$inbox/c60/"
}
jpeg() {  # jpeg OUT 'YYYY:MM:DD HH:MM:SS' [offset]
  convert -size 40x30 "xc:#$(printf '%06x' $((RANDOM * RANDOM % 16777216)))" "$1"
  exiftool -q -overwrite_original "-DateTimeOriginal=$2" ${3:+"-OffsetTimeOriginal=$3"} "$1"
}
mov() {  # mov OUT 'YYYY-MM-DD HH:MM:SS' (UTC): a QuickTime file, unique content (a 'free' box)
  perl "$root/scripts/lib/make-mp4.pl" "$1" "$2" "" 0 "qt  "
  printf '\0\0\0\030free%s' "$(printf '%016x' $((RANDOM * 32768 + RANDOM)))" >>"$1"
}
asset() {  # asset NAME -> storage-relative path of its row
  sql "SELECT replace(final_path, '$storage/', '') FROM photofactory.media_assets WHERE original_name = '$1'"
}
sql "ALTER SYSTEM SET photofactory.sidecar_wait = '30s'" >/dev/null; reload

# 1. Live Photo across midnight in Tokyo, with its .AAE edit.
mkdir -p "$stage/live"
jpeg "$stage/live/IMG_0100.JPG" "2024:06:02 00:00:30" "+09:00"
mov "$stage/live/IMG_0100.MOV" "2024-06-01 15:00:31"
printf '<?xml version="1.0"?><plist><dict><key>adjustmentFormatIdentifier</key></dict></plist>\n' >"$stage/live/IMG_0100.AAE"
drop live
ok "Live Photo still, video and edit ingested" wait_for 30 sql_is \
  "SELECT count(*) FROM photofactory.inbox_events WHERE original_name LIKE 'IMG_0100.%'" 3
is "$(asset IMG_0100.JPG)" "Originals/2024/2024-06-02/IMG_0100.JPG" "still in its own date folder"
is "$(asset IMG_0100.MOV)" "Originals/2024/2024-06-02/IMG_0100.MOV" "video beside it, not in the UTC (or Paris) day before"
is "$(sql "SELECT captured_at || ' ' || utc_offset_minutes || ' ' || time_zone || ' ' || date_source FROM photofactory.media_assets WHERE original_name = 'IMG_0100.MOV'")" \
  "2024-06-02 00:00:31 540 paired video_utc" "video's UTC time converted with the still's offset, and the choice recorded"
is "$(sql "SELECT m.companion_of = s.id FROM photofactory.media_assets m, photofactory.media_assets s WHERE m.original_name = 'IMG_0100.MOV' AND s.original_name = 'IMG_0100.JPG'")" \
  "t" "video linked to its still"
is "$(sql "SELECT kind || ' ' || replace(final_path, '$storage/', '') || ' ' || (asset_id = (SELECT id FROM photofactory.media_assets WHERE original_name = 'IMG_0100.JPG')) FROM photofactory.asset_sidecars WHERE original_name = 'IMG_0100.AAE'")" \
  "aae Originals/2024/2024-06-02/IMG_0100.AAE true" ".AAE stored beside the still and recorded as its sidecar"
is "$(sql "SELECT count(*) FROM photofactory.media_assets WHERE original_name = 'IMG_0100.AAE'")" "0" "a sidecar is not a media asset"

# 2. RAW + JPEG + .xmp; a file of another case already holds the name.
mkdir -p "$stage/raw" "$storage/Originals/2023/2023-03-03"
printf 'someone else\n' >"$storage/Originals/2023/2023-03-03/dsc_0001.jpg"; pf_own "$storage/Originals"
convert -size 40x30 xc:navy "$stage/raw/DSC_0001.tif"
exiftool -q -overwrite_original "-DateTimeOriginal=2023:03:03 10:00:00" "$stage/raw/DSC_0001.tif"
mv "$stage/raw/DSC_0001.tif" "$stage/raw/DSC_0001.NEF"
jpeg "$stage/raw/DSC_0001.JPG" "2023:03:03 10:00:00"
printf '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>\n' >"$stage/raw/DSC_0001.NEF.xmp"
drop raw
ok "RAW, JPEG and .xmp ingested" wait_for 30 sql_is \
  "SELECT count(*) FROM photofactory.inbox_events WHERE original_name LIKE 'DSC_0001.%'" 3
is "$(asset DSC_0001.NEF)" "Originals/2023/2023-03-03/DSC_0001~1.NEF" "RAW leads; dsc_0001.jpg on disk counts as a collision"
is "$(asset DSC_0001.JPG)" "Originals/2023/2023-03-03/DSC_0001~1.JPG" "JPEG keeps the RAW's base name and suffix"
is "$(sql "SELECT replace(final_path, '$storage/', '') FROM photofactory.asset_sidecars WHERE original_name = 'DSC_0001.NEF.xmp'")" \
  "Originals/2023/2023-03-03/DSC_0001~1.NEF.xmp" ".xmp follows with the same suffix"
is "$(cat "$storage/Originals/2023/2023-03-03/dsc_0001.jpg")" "someone else" "the existing file is untouched"
is "$(sql "SELECT count(*) FROM photofactory.media_assets j JOIN photofactory.media_assets r ON j.companion_of = r.id WHERE j.original_name = 'DSC_0001.JPG' AND r.original_name = 'DSC_0001.NEF'")" \
  "1" "JPEG linked to its RAW"

# 3. A video that arrives after its still joins it.
mkdir -p "$stage/late1" "$stage/late2"
jpeg "$stage/late1/IMG_0200.JPG" "2022:12:31 23:59:50" "-05:00"
drop late1
ok "still ingested alone" wait_for 30 sql_is "SELECT count(*) FROM photofactory.media_assets WHERE original_name = 'IMG_0200.JPG'" 1
mov "$stage/late2/IMG_0200.MOV" "2023-01-01 04:59:55"
drop late2
ok "late video ingested" wait_for 30 sql_is "SELECT count(*) FROM photofactory.media_assets WHERE original_name = 'IMG_0200.MOV'" 1
is "$(asset IMG_0200.MOV)" "Originals/2022/2022-12-31/IMG_0200.MOV" "late video lands in its still's folder"
is "$(sql "SELECT m.companion_of = s.id FROM photofactory.media_assets m, photofactory.media_assets s WHERE m.original_name = 'IMG_0200.MOV' AND s.original_name = 'IMG_0200.JPG'")" \
  "t" "late video linked to its still"

# 4. A sidecar before its photo waits for it; 5. one without a photo is set aside.
mkdir -p "$stage/early" "$stage/photo" "$stage/lonely"
printf '<x:xmpmeta xmlns:x="adobe:ns:meta/"/>\n' >"$stage/early/IMG_0300.JPG.xmp"
drop early
sleep 3
ok "an early sidecar waits in the inbox" test -f "$inbox/c60/IMG_0300.JPG.xmp"
jpeg "$stage/photo/IMG_0300.JPG" "2021:07:07 07:07:07"
drop photo
ok "photo and its early sidecar ingested" wait_for 30 sql_is \
  "SELECT count(*) FROM photofactory.asset_sidecars WHERE original_name = 'IMG_0300.JPG.xmp'" 1
is "$(sql "SELECT replace(final_path, '$storage/', '') FROM photofactory.asset_sidecars WHERE original_name = 'IMG_0300.JPG.xmp'")" \
  "Originals/2021/2021-07-07/IMG_0300.JPG.xmp" "early sidecar beside its photo"
sql "ALTER SYSTEM SET photofactory.sidecar_wait = '2s'" >/dev/null; reload
printf '{"title": "orphan"}\n' >"$stage/lonely/NOPHOTO.json"
drop lonely
ok "a sidecar without a photo goes to Rejected/ after the wait" wait_for 30 sql_is \
  "SELECT outcome || ': ' || reason FROM photofactory.inbox_events WHERE original_name = 'NOPHOTO.json'" \
  "rejected: sidecar without its photo or video"
ok "... and is kept there" test -f "$storage/Rejected/$(date +%F)/NOPHOTO.json"
sql "ALTER SYSTEM RESET photofactory.sidecar_wait" >/dev/null; reload

# 6. A group waits while Syncthing still writes one of its members.
mkdir -p "$stage/sync"
jpeg "$stage/sync/IMG_0400.JPG" "2020:02:20 20:20:20" "+01:00"
printf 'partial' >"$inbox/c60/.syncthing.IMG_0400.MOV.tmp"   # Syncthing's temporary, already there
chown postgres: "$inbox/c60/.syncthing.IMG_0400.MOV.tmp"
drop sync
sleep 4
ok "still held back while its video is being synced" test -f "$inbox/c60/IMG_0400.JPG"
mov "$inbox/c60/.syncthing.IMG_0400.MOV.tmp" "2020-02-20 19:20:21"
chown postgres: "$inbox/c60/.syncthing.IMG_0400.MOV.tmp"
mv "$inbox/c60/.syncthing.IMG_0400.MOV.tmp" "$inbox/c60/IMG_0400.MOV"
ok "pair ingested once the sync finished" wait_for 30 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_name LIKE 'IMG_0400.%' AND (companion_of IS NOT NULL OR original_name = 'IMG_0400.JPG')" 2

is "$(sql "SELECT count(*) FROM photofactory.ingest_journal")" "0" "journal empty"
ok "reconcile sees no orphan among the sidecars" sql_is \
  "SELECT count(*) FROM photofactory.reconcile() WHERE path LIKE '%/c60/%' OR path LIKE '%.xmp' OR path LIKE '%.AAE'" 0
rm -f "$storage/Originals/2023/2023-03-03/dsc_0001.jpg"   # test-owned fixture
rm -rf "$stage"
pf_summary
