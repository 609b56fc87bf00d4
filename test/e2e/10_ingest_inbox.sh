#!/usr/bin/env bash
# End to end: real files dropped into the inbox of a live cluster. Asserts
# every ledger row (hash equals sha256sum, path, date, date source, location,
# flags), every audit event and the exact tree on disk.
source "$(dirname "$0")/lib/assert.sh"

stage=$(mktemp -d "$PF_TEST_RUN/stage.XXXXXX")
bash "$root/scripts/lib/sample-inbox.sh" "$stage/in"
in=$stage/in
mkdir -p "$in/deep/a/b/c/d/e/f/g"
convert -size 40x30 xc:navy -quality 80 "$in/deep/a/b/c/d/e/f/g/IMG_20200202_020202.jpg"
# Corrupt EXIF: a valid JPEG whose APP1 segment is garbage after the header.
convert -size 40x30 xc:red "$in/Pixel/corrupt_exif.jpg"
perl -e 'open F,"+<",$ARGV[0] or die; binmode F; read F,$b,2;
         print F "\xFF\xE1\x00\x40Exif\x00\x00II*\x00\xFF\xFF\xFF\x7F" . ("\xAB" x 48); close F' \
     "$in/Pixel/corrupt_exif.jpg"
head -c 300 "$in/iPhone/IMG_0002.JPG" >"$in/Pixel/truncated.jpg"
# One fixture per remaining date source, each alone in its file.
convert -size 32x24 xc:tan "$in/Pixel/digitized.jpg"
exiftool -q -overwrite_original '-ExifIFD:CreateDate=2022:02:02 02:02:02' "$in/Pixel/digitized.jpg"
convert -size 32x24 xc:wheat "$in/Pixel/imagedate.jpg"
exiftool -q -overwrite_original '-IFD0:ModifyDate=2021:01:01 01:01:01' "$in/Pixel/imagedate.jpg"
convert -size 32x24 xc:linen "$in/Pixel/xmponly.jpg"
exiftool -q -overwrite_original '-XMP-exif:DateTimeOriginal=2020:03:03 03:03:03+01:00' "$in/Pixel/xmponly.jpg"
: >"$in/Pixel/empty.jpg"
ln -s /etc/passwd "$in/Pixel/passwd.jpg"
mkfifo "$in/Pixel/pipe.jpg"
cp "$in/Pixel/PXL_20230101_101010123.jpg" "$in/Pixel/$(printf 'bad\xffname.jpg')"
convert -size 41x31 xc:teal "$in/Pixel/$(printf 'bad\xffname.jpg')"
find "$in" -type f -exec touch -h -d '-1 minute' {} +
mtime_day=$(TZ=Europe/Paris date -d '-1 minute' +%Y/%F)   # where files dated by mtime go
touch -d '2021-05-06 07:08:09' "$in/Pixel/screenshot.png"

# Reference hashes before anything moves.
declare -A sha
while IFS= read -r -d '' f; do
  sha["${f#"$in/"}"]=$(sha256sum "$f" | cut -d' ' -f1)
done < <(find "$in" -type f -print0)

# Wave 2 (dropped once wave 1 is in): the duplicate of iPhone/IMG_0001.JPG and
# another IMG_0001.JPG of the same day, so "original" and "~1" are deterministic.
mkdir -p "$stage/wave2/WhatsApp" "$stage/wave2/Pixel"
mv "$in/WhatsApp/IMG_0001 copy.JPG" "$stage/wave2/WhatsApp/"
mv "$in/Pixel/IMG_0001.JPG" "$stage/wave2/Pixel/"
pf_own "$in" "$stage/wave2"   # the server's user must be able to move what lands in the inbox
mv "$in"/* "$inbox"/
sql "SELECT photofactory.ingest_now()" >/dev/null

# A file still being written: must not be ingested until complete.
convert -size 1200x900 plasma:fractal -quality 92 "$stage/growing.jpg"
exiftool -q -overwrite_original -DateTimeOriginal='2019:09:09 09:09:09' "$stage/growing.jpg"
growing_sha=$(sha256sum "$stage/growing.jpg" | cut -d' ' -f1)
(
  size=$(stat -c %s "$stage/growing.jpg"); chunk=$(( size / 8 + 1 ))
  for i in 0 1 2 3 4 5 6 7; do
    dd if="$stage/growing.jpg" of="$inbox/Pixel/growing.jpg" bs=$chunk skip=$i seek=$i count=1 conv=notrunc status=none
    sleep 0.5
  done
) &
writer=$!

inbox_done() {
  [ -z "$(find "$inbox" -type f ! -name '.*' ! -name '*.tmp' -print -quit)" ] && ! kill -0 $writer 2>/dev/null &&
    [ -z "$(find "$inbox" \( -type l -o -type p \) -print -quit)" ]
}
ok "librarian empties the inbox within 60 s" wait_for 60 inbox_done
wait $writer 2>/dev/null
cp -a "$stage/wave2/." "$inbox/"
ok "second wave ingested within 30 s" wait_for 30 inbox_done

asset() {  # asset ORIGINAL_NAME COLUMN-EXPRESSION
  sql "SELECT $2 FROM photofactory.media_assets WHERE original_path = '$inbox/$1'"
}
check_asset() {  # check_asset REL FINAL_REL CAPTURED SOURCE LOCATION
  local rel=$1 final=$2 captured=$3 source=$4 loc=$5
  is "$(asset "$rel" file_hash)" "${sha[$rel]}" "$rel: file_hash is the sha256sum of the file"
  is "$(asset "$rel" "replace(final_path, '$storage/', '')")" "$final" "$rel: stored at $final"
  ok "$rel: stored file exists with the same content" test "$(sha256sum "$storage/$final" | cut -d' ' -f1)" = "${sha[$rel]}"
  is "$(asset "$rel" captured_at)" "$captured" "$rel: captured_at"
  is "$(asset "$rel" date_source)" "$source" "$rel: date_source"
  is "$(asset "$rel" "coalesce(location::text, 'null')")" "$loc" "$rel: location"
}

check_asset iPhone/IMG_0001.JPG Originals/2023/2023-12-25/IMG_0001.JPG "2023-12-25 12:34:56" exif_original \
  '{"lat": 35.6762, "lon": 139.6503}'
is "$(asset iPhone/IMG_0001.JPG utc_offset_minutes)" "540" "IMG_0001: UTC offset from OffsetTimeOriginal"
check_asset iPhone/IMG_0002.JPG Originals/2024/2024-07-04/IMG_0002.JPG "2024-07-04 18:00:00" exif_original \
  '{"lat": -22.9068, "lon": -43.1729}'
check_asset Pixel/IMG_0001.JPG Originals/2023/2023-12-25/IMG_0001~1.JPG "2023-12-25 08:00:00" exif_original null
check_asset Pixel/PXL_20230101_101010123.jpg Originals/2023/2023-01-01/PXL_20230101_101010123.jpg \
  "2023-01-01 10:10:10.123" filename null
check_asset WhatsApp/IMG-20220315-WA0001.jpg Originals/2022/2022-03-15/IMG-20220315-WA0001.jpg \
  "2022-03-15 00:00:00" filename null
# mtime is an instant: shown as wall-clock time in photofactory.default_timezone (Europe/Paris, +02:00).
check_asset Pixel/screenshot.png Originals/2021/2021-05-06/screenshot.png "2021-05-06 09:08:09" mtime null
is "$(asset Pixel/screenshot.png utc_offset_minutes)" "120" "screenshot.png: offset of the zone used"
check_asset Pixel/VID_clip.mp4 Originals/2023/2023-08-01/VID_clip.mp4 "2023-08-01 18:30:00" video_utc \
  '{"lat": 48.8584, "lon": 2.2945}'
is "$(asset Pixel/VID_clip.mp4 media_kind)" "video" "VID_clip.mp4: media_kind video"
# The Live Photo: the video's UTC time (the day before in Paris) lands beside its still, in its offset.
check_asset iPhone/IMG_0004.JPG Originals/2024/2024-06-02/IMG_0004.JPG "2024-06-02 00:00:30" exif_original null
check_asset iPhone/IMG_0004.MOV Originals/2024/2024-06-02/IMG_0004.MOV "2024-06-02 00:00:31" video_utc null
is "$(asset iPhone/IMG_0004.MOV "utc_offset_minutes || ' ' || time_zone")" "540 paired" "IMG_0004.MOV: the still's offset, recorded as paired"
check_asset deep/a/b/c/d/e/f/g/IMG_20200202_020202.jpg Originals/2020/2020-02-02/IMG_20200202_020202.jpg \
  "2020-02-02 02:02:02" filename null
check_asset Pixel/digitized.jpg Originals/2022/2022-02-02/digitized.jpg "2022-02-02 02:02:02" exif_digitized null
check_asset Pixel/imagedate.jpg Originals/2021/2021-01-01/imagedate.jpg "2021-01-01 01:01:01" exif_image null
check_asset Pixel/xmponly.jpg Originals/2020/2020-03-03/xmponly.jpg "2020-03-03 03:03:03" xmp null
is "$(asset Pixel/xmponly.jpg utc_offset_minutes)" "60" "xmponly.jpg: offset from the XMP date"
is "$(asset Pixel/corrupt_exif.jpg has_errors)" "t" "corrupt EXIF: ingested with has_errors"
ok "corrupt EXIF: error_message says what failed" test -n "$(asset Pixel/corrupt_exif.jpg error_message)"
is "$(asset Pixel/bad%FFname.jpg "replace(final_path, '$storage/', '')" | sed 's#.*/##')" "bad%FFname.jpg" \
  "invalid UTF-8 name is stored with a %XX escape"
is "$(sql "SELECT file_hash FROM photofactory.media_assets WHERE original_name = 'growing.jpg'")" "$growing_sha" \
  "file written while the librarian watched: ingested once, complete"

# Duplicates and rejections: moved aside and recorded, never deleted.
is "$(sql "SELECT outcome || ' ' || replace(stored_path, '$storage/', '') FROM photofactory.inbox_events WHERE original_name = 'IMG_0001 copy.JPG'")" \
  "duplicate Duplicates/2023/2023-12-25/IMG_0001 copy.JPG" "duplicate moved to Duplicates/ and recorded"
is "$(sql "SELECT e.asset_id = a.id FROM photofactory.inbox_events e, photofactory.media_assets a WHERE e.original_name = 'IMG_0001 copy.JPG' AND a.original_path = '$inbox/iPhone/IMG_0001.JPG'")" \
  "t" "duplicate event points at the original asset"
is "$(asset Pixel/truncated.jpg has_errors)" "t" "truncated JPEG: kept (it is a photo), has_errors set"
for f in notes.txt empty.jpg passwd.jpg pipe.jpg; do
  ok "$f: rejected with a reason" test -n "$(sql "SELECT reason FROM photofactory.inbox_events WHERE outcome = 'rejected' AND original_name = '$f' AND reason IS NOT NULL")"
done
ok "symlink moved as a link, /etc/passwd untouched" test -L "$(sql "SELECT stored_path FROM photofactory.inbox_events WHERE original_name = 'passwd.jpg'")"
ok "/etc/passwd is not in the ledger" test -z "$(sql "SELECT 1 FROM photofactory.media_assets WHERE file_hash = '$(sha256sum /etc/passwd | cut -d' ' -f1)'")"

# Left alone: the Syncthing temporary.
ok "Syncthing temporary left in the inbox" test -f "$inbox/iPhone/.syncthing.IMG_0003.JPG.tmp"

# Every input accounted for exactly once.
# sha[] holds every regular input file; the Syncthing temporary is never
# processed, and the growing file, the link and the FIFO were not in it.
is "$(sql "SELECT count(*) FROM photofactory.inbox_events")" "$(( ${#sha[@]} - 1 + 3 ))" \
  "exactly one audit event per input file"
is "$(sql "SELECT count(*) FROM photofactory.media_assets")" "$(sql "SELECT count(*) FROM photofactory.inbox_events WHERE outcome = 'ingested'")" \
  "one asset per ingested event"
is "$(sql "SELECT count(*) FROM photofactory.ingest_journal")" "0" "journal empty when idle"
is "$(cd "$storage" && find Originals -type f | wc -l)" \
  "$(sql "SELECT (SELECT count(*) FROM photofactory.media_assets) + (SELECT count(*) FROM photofactory.asset_sidecars)")" \
  "Originals holds exactly the ledger's files (assets and their sidecars)"
missing=$(sql "SELECT final_path FROM photofactory.media_assets" | while read -r p; do [ -f "$p" ] || echo "$p"; done)
is "$missing" "" "every final_path exists"

# The exact tree on disk.
today=$(sql "SELECT to_char(now(), 'YYYY-MM-DD')")
expected_tree=$(sort <<TREE
Duplicates/2023/2023-12-25/IMG_0001 copy.JPG
Originals/$mtime_day/bad%FFname.jpg
Originals/$mtime_day/corrupt_exif.jpg
Originals/$mtime_day/truncated.jpg
Originals/2019/2019-09-09/growing.jpg
Originals/2020/2020-02-02/IMG_20200202_020202.jpg
Originals/2020/2020-03-03/xmponly.jpg
Originals/2021/2021-01-01/imagedate.jpg
Originals/2021/2021-05-06/screenshot.png
Originals/2022/2022-02-02/digitized.jpg
Originals/2022/2022-03-15/IMG-20220315-WA0001.jpg
Originals/2023/2023-01-01/PXL_20230101_101010123.jpg
Originals/2023/2023-08-01/VID_clip.mp4
Originals/2023/2023-12-25/IMG_0001.JPG
Originals/2023/2023-12-25/IMG_0001~1.JPG
Originals/2024/2024-06-02/IMG_0004.AAE
Originals/2024/2024-06-02/IMG_0004.JPG
Originals/2024/2024-06-02/IMG_0004.MOV
Originals/2024/2024-07-04/IMG_0002.JPG
Rejected/$today/empty.jpg
Rejected/$today/notes.txt
Rejected/$today/passwd.jpg
Rejected/$today/pipe.jpg
TREE
)
is "$(cd "$storage" && find Duplicates Originals Rejected ! -type d | LC_ALL=C sort)" "$(LC_ALL=C sort <<<"$expected_tree")" "the exact tree under storage"

# The librarian reports itself.
is "$(sql "SELECT status FROM photofactory.system_status WHERE service_name = 'librarian'")" "OK" "librarian heartbeat OK"
ok "librarian visible in pg_stat_activity" test -n "$(sql "SELECT 1 FROM pg_stat_activity WHERE backend_type = 'photofactory librarian'")"

rm -rf "$stage"
pf_summary
