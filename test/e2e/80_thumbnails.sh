#!/usr/bin/env bash
# End to end: the thumbnailer. Ingested photos (JPEG turned by EXIF, PNG with
# alpha, HEIC, GIF), a RAW and a video get both renditions and is_thumbnailed;
# broken files (truncated, bomb) get a clear error and a bounded number of
# attempts; rethumbnail() replaces renditions; photofactory.storage_mode
# applies to them; reconcile() reports orphan and missing renditions; kill -9
# of the thumbnailer mid-batch leaves no half file under a final name and no
# flag without both renditions.
source "$(dirname "$0")/lib/assert.sh"

# Test clusters start with the thumbnailer off (scripts/lib/common.sh): on from
# here, for the rest of the suite.
sql "ALTER SYSTEM SET photofactory.thumbnailer_workers = 1" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
stage=$(mktemp -d "$PF_TEST_RUN/stage80.XXXX")
drop() {  # drop SUBDIR: files staged in $stage/SUBDIR appear in the inbox at once, settled
  touch -d '-1 minute' "$stage/$1"/*
  pf_own "$stage/$1"
  mkdir -p "$inbox/t80"; pf_own "$inbox/t80"
  mv "$stage/$1"/* "$inbox/t80/"
}
id_of() { sql "SELECT id FROM photofactory.media_assets WHERE original_name = '$1'"; }
path_of() { sql "SELECT photofactory.thumbnail_path('$1', '$2')"; }
thumbs=$storage/Thumbnails
# "R G B" of a pixel, integers.
pixel() { vips getpoint "$1" "$2" "$3" 2>/dev/null | awk '{printf "%d %d %d", $1, $2, $3}'; }
reddish() { read -r r g b <<<"$1"; [ "$r" -gt 180 ] && [ "$g" -lt 80 ] && [ "$b" -lt 80 ]; }
bluish() { read -r r g b <<<"$1"; [ "$b" -gt 180 ] && [ "$r" -lt 120 ] && [ "$g" -lt 80 ]; }
# Every final-named rendition decodes completely (a half-written file would not).
all_renditions_whole() {
  local f bad=0
  while IFS= read -r -d '' f; do
    vips avg "$f" >/dev/null 2>&1 || { echo "# broken rendition: $f"; bad=1; }
  done < <(find "$thumbs" -type f \( -name '*-thumb.webp' -o -name '*-preview.jpg' \) -print0)
  return $bad
}
# No asset is marked thumbnailed without both of its files.
no_flag_without_files() {
  local id missing=0
  for id in $(sql "SELECT id FROM photofactory.media_assets WHERE is_thumbnailed"); do
    for k in thumbnail preview; do
      [ -s "$(path_of "$id" $k)" ] || { echo "# $id marked but its $k is missing"; missing=1; }
    done
  done
  return $missing
}

# 1. One file of each kind.
mkdir -p "$stage/kinds"
convert -size 200x50 xc:red -size 200x50 xc:blue -append "$stage/upright.png"
convert "$stage/upright.png" -rotate -90 -quality 95 "$stage/kinds/IMG_8001.jpg"
exiftool -q -overwrite_original -n -Orientation=6 "-DateTimeOriginal=2024:08:01 10:00:00" "$stage/kinds/IMG_8001.jpg"
convert -size 3000x2000 gradient:red-blue -quality 85 "$stage/kinds/IMG_8002.jpg"
convert -size 100x100 xc:none -fill red -draw 'rectangle 0,0 49,99' "$stage/kinds/IMG_8003.png"
convert -size 200x50 xc:red -size 200x50 xc:blue -append -quality 90 "$stage/heic_src.jpg"
heif-enc -q 90 -o "$stage/kinds/IMG_8004.heic" "$stage/heic_src.jpg" >/dev/null
convert -size 300x200 xc:green -size 300x200 xc:blue -loop 0 "$stage/kinds/IMG_8005.gif"
convert -size 160x60 xc:red -size 160x60 xc:blue -append "$stage/half.jpg"
convert -size 64x48 xc:gray "$stage/half.jpg" -compress JPEG "$stage/raw.tiff"
mv "$stage/raw.tiff" "$stage/kinds/DSC_8006.DNG"
exiftool -q -overwrite_original -n '-DNGVersion=1 4 0 0' -Orientation=6 "$stage/kinds/DSC_8006.DNG"
ffmpeg -nostdin -loglevel error -y -f lavfi -i color=c=black:s=320x240:d=1:r=25 \
  -f lavfi -i color=c=red:s=320x240:d=2:r=25 -filter_complex concat=n=2:v=1:a=0 \
  -c:v libx264 -pix_fmt yuv420p "$stage/kinds/VID_8007.mp4"
# Broken: a truncated JPEG, and a PNG declaring 100,000 x 100,000 pixels.
head -c 30000 "$stage/kinds/IMG_8002.jpg" >"$stage/kinds/IMG_8008.jpg"
convert -size 1x1 xc:red "$stage/kinds/IMG_8009.png"
perl -e '
  open my $f, "+<:raw", $ARGV[0] or die; local $/; my $d = <$f>;
  substr($d, 16, 8) = pack("NN", 100000, 100000);
  require Compress::Zlib; substr($d, 29, 4) = pack("N", Compress::Zlib::crc32(substr($d, 12, 17)));
  seek $f, 0, 0; print $f $d; close $f;' "$stage/kinds/IMG_8009.png"
drop kinds

ok "all nine files ingested" wait_for 60 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_name ~ '^(IMG|DSC|VID)_800[1-9]'" 9
ok "thumbnailer heartbeats" wait_for 30 sql_is \
  "SELECT count(*) FROM photofactory.system_status WHERE service_name = 'thumbnailer'" 1
ok "the seven good files get is_thumbnailed" wait_for 90 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_name ~ '^(IMG|DSC|VID)_800[1-7]' AND is_thumbnailed" 7

for n in IMG_8001.jpg IMG_8002.jpg IMG_8003.png IMG_8004.heic IMG_8005.gif DSC_8006.DNG VID_8007.mp4; do
  id=$(id_of "$n")
  t=$(path_of "$id" thumbnail); p=$(path_of "$id" preview)
  is "${t#"$thumbs"/}" "${id:0:2}/${id:2:2}/$id-thumb.webp" "$n: thumbnail under Thumbnails/ab/cd/<id>-thumb.webp"
  is "$(vipsheader -f vips-loader "$t" 2>/dev/null)/$(vipsheader -f vips-loader "$p" 2>/dev/null)" \
    "webpload/jpegload" "$n: a WebP thumbnail and a JPEG preview"
done
is "$(vipsheader -f width "$(path_of "$(id_of IMG_8002.jpg)" preview)")x$(vipsheader -f height "$(path_of "$(id_of IMG_8002.jpg)" preview)")" \
  "1440x960" "3000x2000 photo: preview 1440 px on its longest side"
is "$(vipsheader -f width "$(path_of "$(id_of IMG_8002.jpg)" thumbnail)")" "250" "thumbnail 250 px on its longest side"
p=$(path_of "$(id_of IMG_8001.jpg)" preview)
is "$(vipsheader -f width "$p")x$(vipsheader -f height "$p")" "200x100" "EXIF orientation 6: landscape again"
ok "EXIF orientation: red half on top" reddish "$(pixel "$p" 100 10)"
ok "EXIF orientation: blue half at the bottom" bluish "$(pixel "$p" 100 90)"
ok "PNG alpha flattened on white in the JPEG preview" test "$(pixel "$(path_of "$(id_of IMG_8003.png)" preview)" 90 50)" = "255 255 255"
p=$(path_of "$(id_of IMG_8004.heic)" preview)
ok "HEIC decoded (red top)" reddish "$(pixel "$p" 100 10)"
is "$(vipsheader -f height "$(path_of "$(id_of IMG_8005.gif)" preview)")" "200" "GIF: first frame only"
p=$(path_of "$(id_of DSC_8006.DNG)" preview)
is "$(vipsheader -f width "$p")x$(vipsheader -f height "$p")" "120x160" "RAW: embedded preview, turned by the RAW's orientation"
ok "video: a frame past the black first second" reddish "$(pixel "$(path_of "$(id_of VID_8007.mp4)" preview)" 160 120)"

# 2. Broken files: a clear reason, bounded attempts, the service carries on.
ok "truncated JPEG: error recorded" wait_for 30 sql_is \
  "SELECT has_errors AND error_message LIKE '%thumbnail: corrupt: %' FROM photofactory.media_assets WHERE original_name = 'IMG_8008.jpg'" t
ok "bomb: refused as too large, from its header" wait_for 30 sql_is \
  "SELECT error_message ~ 'thumbnail: too large: .*100000x100000' FROM photofactory.media_assets WHERE original_name = 'IMG_8009.png'" t
is "$(sql "SELECT attempts || ' ' || (retry_after > now()) FROM photofactory.thumbnail_failures f JOIN photofactory.media_assets a ON a.id = f.asset_id WHERE a.original_name = 'IMG_8009.png'")" \
  "1 true" "a failure waits for its retry time (no retry storm)"
is "$(sql "SELECT count(*) FROM photofactory.pending_thumbnails(100) WHERE original_name IN ('IMG_8008.jpg', 'IMG_8009.png')")" \
  "0" "failed assets are not claimed before their retry time"
is "$(sql "SELECT is_thumbnailed FROM photofactory.media_assets WHERE original_name = 'IMG_8009.png'")" "f" "no flag for a failed asset"
bomb=$(id_of IMG_8009.png)
sql "SELECT photofactory._thumbnail_failed('$bomb', 'again', 3), photofactory._thumbnail_failed('$bomb', 'and again', 3)" >/dev/null
is "$(sql "SELECT attempts || ' ' || coalesce(retry_after::text, 'never') FROM photofactory.thumbnail_failures WHERE asset_id = '$bomb'")" \
  "3 never" "after photofactory.thumbnail_max_attempts: no more automatic attempts"
ok "the error says how to retry" sql_is "SELECT error_message LIKE '%rethumbnail%' FROM photofactory.media_assets WHERE id = '$bomb'" t

# 3. rethumbnail(): new renditions replace the old ones.
id=$(id_of IMG_8002.jpg)
before=$(stat -c %i "$(path_of "$id" preview)")
sql "SELECT photofactory.rethumbnail('$id')" >/dev/null
ok "rethumbnail(): rendered again" wait_for 30 sql_is "SELECT is_thumbnailed FROM photofactory.media_assets WHERE id = '$id'" t
ok "rethumbnail(): the preview was replaced (new file)" test "$(stat -c %i "$(path_of "$id" preview)")" != "$before"
is "$(sql "SELECT attempts FROM photofactory.thumbnail_failures WHERE asset_id = '$bomb'")" "3" "(the bomb's failures are still recorded)"
sql "SELECT photofactory.rethumbnail('$bomb')" >/dev/null
is "$(sql "SELECT count(*) FROM photofactory.thumbnail_failures WHERE asset_id = '$bomb'")" "0" "rethumbnail() forgets the failures"

# 3b. photofactory.storage_mode reaches Thumbnails/ as it reaches Originals/
# (the server's umask would make them 0600; folders: unit test ThumbnailLayout).
sql "ALTER SYSTEM SET photofactory.storage_mode = '0750'" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null; sleep 1.5
sql "SELECT photofactory.rethumbnail('$id')" >/dev/null
ok "storage_mode 0750: rendered again" wait_for 30 sql_is "SELECT is_thumbnailed FROM photofactory.media_assets WHERE id = '$id'" t
is "$(stat -c %a "$(path_of "$id" thumbnail)" "$(path_of "$id" preview)" | tr '\n' ' ')" "640 640 " \
  "storage_mode 0750: both renditions are 0640"
sql "ALTER SYSTEM RESET photofactory.storage_mode" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null

# 4. reconcile(): orphan and missing renditions.
orphan_id=ffffffff-0000-4000-8000-000000000000
# The folders made here belong to the server's user, as its own would: a
# root-owned ff/ would make every later asset id starting with "ff" fail
# ("creating folder ...: Permission denied"), one asset in 256.
mkdir -p "$thumbs/ff/ff" && cp "$(path_of "$id" thumbnail)" "$thumbs/ff/ff/$orphan_id-thumb.webp" && pf_own "$thumbs/ff"
vid=$(id_of VID_8007.mp4)
mv "$(path_of "$vid" preview)" "$stage/kept-preview.jpg"
is "$(sql "SELECT problem || ' ' || coalesce(asset_id::text, '-') FROM photofactory.reconcile() WHERE problem LIKE '%rendition' ORDER BY 1")" \
  "missing_rendition $vid
orphan_rendition -" "reconcile() reports the orphan rendition and the missing one"
rm -f "$thumbs/ff/ff/$orphan_id-thumb.webp"; mv "$stage/kept-preview.jpg" "$(path_of "$vid" preview)"
is "$(sql "SELECT count(*) FROM photofactory.reconcile() WHERE problem LIKE '%rendition'")" "0" "and nothing once repaired"

# 5. kill -9 of the thumbnailer in the middle of a batch.
mkdir -p "$stage/many"
for i in $(seq 1 40); do vips gaussnoise "$stage/many/IMG_81$(printf %02d "$i").jpg[Q=90]" 3000 2000 >/dev/null; done
drop many
ok "forty noisy 6-megapixel photos ingested" wait_for 120 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_name LIKE 'IMG\_81__.jpg'" 40
ok "thumbnailing under way" wait_for 60 sql_is \
  "SELECT count(*) > 0 FROM photofactory.media_assets WHERE original_name LIKE 'IMG\_81__.jpg' AND is_thumbnailed" t
pid=$(sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'photofactory thumbnailer' LIMIT 1")
done_before=$(sql "SELECT count(*) FROM photofactory.media_assets WHERE original_name LIKE 'IMG\_81__.jpg' AND is_thumbnailed")
ok "thumbnailer killed with SIGKILL mid-batch (${done_before}/40 done)" kill -9 "$pid"
ok "server back after crash recovery" wait_for 60 sql_is "SELECT 1" 1
ok "after the kill: every final-named rendition is a whole image" all_renditions_whole
ok "after the kill: no asset marked without both renditions" no_flag_without_files
# After crash recovery every worker restarts (5 s back-off) and the librarian
# rescans first, which the thumbnailer yields to: allow a loaded CI machine time.
ok "the restarted thumbnailer finishes the batch" wait_for 240 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_name LIKE 'IMG\_81__.jpg' AND is_thumbnailed" 40
if [ "$(sql "SELECT count(*) FROM photofactory.media_assets WHERE original_name LIKE 'IMG\_81__.jpg' AND is_thumbnailed")" != 40 ]; then
  sql "SELECT count(*) FILTER (WHERE is_thumbnailed) || ' done, ' || count(*) FILTER (WHERE has_errors) || ' with errors'
         FROM photofactory.media_assets WHERE original_name LIKE 'IMG\_81__.jpg'" | sed 's/^/# /'
  sql "SELECT row_to_json(f) FROM photofactory.thumbnail_failures f" | sed 's/^/# /'
  sql "SELECT status || ' ' || coalesce(current_task, '') FROM photofactory.system_status WHERE service_name = 'thumbnailer'" | sed 's/^/# /'
fi
ok "finally: all renditions whole" all_renditions_whole
ok "finally: every flag backed by both files" no_flag_without_files
is "$(find "$thumbs" -name '.*.tmp' | wc -l)" "0" "no temporary left once the killed batch was redone"

pf_summary
