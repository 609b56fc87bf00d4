#!/usr/bin/env bash
# Comparison of photofactory's reading of photos and videos with exiftool's.
#
# Generates fixtures for every format and date/GPS rule of docs/formats.md
# (ImageMagick makes blank images, exiftool writes EXIF/XMP/QuickTime tags,
# scripts/lib/make-mp4.pl writes MP4/MOV/3GP/M4V containers), adds any real
# camera files found in $PF_SAMPLES_DIR and a few real images Debian ships,
# runs build/pf-inspect and exiftool on all of them and compares capture dates
# and GPS positions (test/formats/compare.pl). Passes when they agree on at
# least 99 % of the files and every disagreement is a known, explained one
# (test/formats/known-disagreements.txt, docs/formats.md).
#
# Also adds the real-format samples of test/formats/make-samples.sh (made by
# ffmpeg, exiftool, exiv2 and ImageMagick rather than by our own writers).
#
# usage: test/formats/compare.sh [--keep]        (needs a CMake build in build/)
#        test/formats/compare.sh --dir DIR       (any folder of real files, e.g. a phone's DCIM:
#                                                 agreement per format and every disagreement with
#                                                 both readings and the rule that decided; the
#                                                 targets: >= 99 % dates, every GPS position)
# No PostgreSQL cluster is involved.
set -uo pipefail
real_dir=
keep=0
while [ $# -gt 0 ]; do
  case $1 in
    --keep) keep=1 ;;
    --dir) real_dir=$(cd "${2:?--dir needs a folder}" && pwd) || exit 1; shift ;;
    *) echo "usage: $0 [--keep] [--dir DIR]" >&2; exit 2 ;;
  esac
  shift
done
cd "$(dirname "$0")/../.."
root=$PWD

inspect=${PF_INSPECT:-$root/build/pf-inspect}
if [ ! -x "$inspect" ]; then
  echo "compare: $inspect is missing (cmake -S . -B build && cmake --build build)"
  echo "formats: 0 passed, 1 failed"
  exit 1
fi
for tool in convert exiftool perl; do
  if ! command -v "$tool" >/dev/null; then
    echo "compare: $tool is missing (bash scripts/install-deps.sh)"
    echo "formats: 0 passed, 1 failed"
    exit 1
  fi
done

work=$(mktemp -d /tmp/pf-formats.XXXXXX)
if [ "$keep" -eq 1 ]; then echo "compare: fixtures kept in $work"; else trap 'rm -rf "$work"' EXIT; fi
fx=$work/fx base=$work/base
mkdir -p "$fx" "$base"

# compare_files LISTFILE [real]: pf-inspect and exiftool on the same paths, then compare.pl.
compare_files() {
  local list=$1 mode=${2:-}
  local now
  now=$(date +%s)
  : > "$work/pf.jsonl"
  xargs -d '\n' -a "$list" "$inspect" --zone Europe/Paris --now "$now" >> "$work/pf.jsonl" 2> "$work/pf.stderr"
  exiftool -json -n -a -G1 -m -@ "$list" \
    -DateTimeOriginal -CreateDate -ModifyDate -OffsetTimeOriginal -OffsetTimeDigitized -OffsetTime \
    -SubSecTimeOriginal -SubSecTimeDigitized -SubSecTime -XMP-photoshop:DateCreated -PNG:CreationTime \
    -IPTC:DateCreated -IPTC:TimeCreated -Keys:CreationDate -ContentCreateDate -UserData:DateTimeOriginal \
    -RIFF:DateTimeOriginal -RIFF:DateCreated -H264:DateTimeOriginal -Matroska:DateTimeOriginal -ASF:CreationDate \
    -GPSLatitude -GPSLongitude -GPSLatitudeRef -GPSLongitudeRef -GPSCoordinates -UserData:LocationInformation \
    -XMP-GCamera:MotionPhoto -XMP-GCamera:MicroVideo -File:MIMEType \
    > "$work/exiftool.json" 2> "$work/exiftool.stderr"
  perl "$root/test/formats/compare.pl" "$work/pf.jsonl" "$work/exiftool.json" \
    "$root/test/formats/known-disagreements.txt" "$now" $mode
}

if [ -n "$real_dir" ]; then
  # Every regular file under DIR except sidecars (XMP, AAE, JSON, THM are not media).
  find "$real_dir" -type f ! -name '.*' ! -iname '*.xmp' ! -iname '*.aae' ! -iname '*.json' ! -iname '*.thm' \
    | sort > "$work/list"
  echo "compare-real: $(wc -l < "$work/list") files under $real_dir"
  compare_files "$work/list" real
  exit $?
fi
mp4() { perl "$root/scripts/lib/make-mp4.pl" "$@"; }
et() { exiftool -q -q -m -overwrite_original "$@"; }

# ------------------------------------------------------------------ stills
# Blank images of every writable still format; TIFF copies become DNG/NEF/ARW
# (TIFF-structured RAWs: exiftool and Exiv2 read their EXIF the same way).
img_formats=(jpg png webp heic avif tiff gif dng nef arw)
for f in jpg png webp heic avif tiff gif; do
  convert -size 64x48 xc:steelblue "$base/blank.$f" || { echo "compare: convert cannot write $f"; exit 1; }
done
cp "$base/blank.tiff" "$base/blank.dng" && et -DNGVersion=1.4.0.0 "$base/blank.dng"
cp "$base/blank.tiff" "$base/blank.nef"
cp "$base/blank.tiff" "$base/blank.arw"

# variant NAME exiftool-arguments... : one still of every format with those tags.
variant() {
  local name=$1; shift
  local files=() f
  for f in "${img_formats[@]}"; do
    cp "$base/blank.$f" "$fx/img-$name.$f"
    files+=("$fx/img-$name.$f")
  done
  if [ $# -gt 0 ]; then et "$@" "${files[@]}"; fi
}
gps() {  # gps LAT LON: EXIF GPS with hemisphere references
  local lat=$1 lon=$2
  echo "-GPSLatitude=${lat#-}" "-GPSLatitudeRef=$([ "${lat#-}" = "$lat" ] && echo N || echo S)" \
       "-GPSLongitude=${lon#-}" "-GPSLongitudeRef=$([ "${lon#-}" = "$lon" ] && echo E || echo W)"
}
# shellcheck disable=SC2046  # word splitting of gps is intended
{
variant tokyo '-DateTimeOriginal=2023:12:25 12:34:56' -OffsetTimeOriginal=+09:00 -SubSecTimeOriginal=123 $(gps 35.6762 139.6503)
variant rio '-DateTimeOriginal=2022:03:04 05:06:07' $(gps -22.9068 -43.1729)
variant digitized '-CreateDate=2021:07:08 09:10:11' -OffsetTimeDigitized=+02:00
variant modify '-ModifyDate=2020:01:02 03:04:05' -OffsetTime=-03:00
variant xmp '-XMP-exif:DateTimeOriginal=2019:05:06 07:08:09+02:00' -XMP-exif:GPSLatitude=48.8584 -XMP-exif:GPSLongitude=2.2945
variant newyork '-DateTimeOriginal=2018:06:07 08:09:10' -OffsetTimeOriginal=-04:00 -SubSecTimeOriginal=5 $(gps 40.7128 -74.0060)
variant placeholder '-DateTimeOriginal=0000:00:00 00:00:00' '-ExifIFD:CreateDate=2017:08:09 10:11:12'
variant photoshop '-XMP-photoshop:DateCreated=2016:09:10 11:12:13'
variant leapday '-DateTimeOriginal=2024:02:29 23:59:59' -OffsetTimeOriginal=+11:00 $(gps -33.8688 151.2093)
variant kathmandu '-DateTimeOriginal=2015:10:11 12:13:14' -OffsetTimeOriginal=+05:45 $(gps 27.7172 85.3240)
variant precedence '-DateTimeOriginal=1999:12:31 23:59:58' '-CreateDate=2000:01:01 00:00:01' '-ModifyDate=2001:02:03 04:05:06'
variant london '-DateTimeOriginal=2014:11:12 13:14:15' -OffsetTimeOriginal=+00:00 -SubSecTimeOriginal=999 $(gps 51.5074 -0.1278)
variant capetown '-DateTimeOriginal=2013:12:13 14:15:16' '-CreateDate=2013:12:13 14:15:17' $(gps -33.9249 18.4241)
variant old '-DateTimeOriginal=1985:05:05 05:05:05' $(gps 64.1466 -21.9426)
# Offsets and places around the world (half and quarter hours, both sides of the date line).
variant losangeles '-DateTimeOriginal=2023:01:15 18:00:00' -OffsetTimeOriginal=-08:00 $(gps 34.0522 -118.2437)
variant auckland '-DateTimeOriginal=2023:01:01 00:30:00' -OffsetTimeOriginal=+13:00 $(gps -36.8485 174.7633)
variant honolulu '-DateTimeOriginal=2022:12:31 14:30:00' -OffsetTimeOriginal=-10:00 $(gps 21.3069 -157.8583)
variant mumbai '-DateTimeOriginal=2021:10:10 10:10:10' -OffsetTimeOriginal=+05:30 -SubSecTimeOriginal=01 $(gps 19.0760 72.8777)
variant adelaide '-DateTimeOriginal=2020:02:02 20:20:20' -OffsetTimeOriginal=+10:30 $(gps -34.9285 138.6007)
variant chatham '-DateTimeOriginal=2019:03:03 03:03:03' -OffsetTimeOriginal=+13:45 $(gps -43.9535 -176.5597)
variant stjohns '-DateTimeOriginal=2018:07:07 07:07:07' -OffsetTimeOriginal=-02:30 $(gps 47.5615 -52.7126)
variant moscow '-DateTimeOriginal=2017:04:04 04:04:04' -OffsetTimeOriginal=+03:00 $(gps 55.7558 37.6173)
variant santiago '-DateTimeOriginal=2016:05:05 05:05:05' -OffsetTimeOriginal=-04:00 $(gps -33.4489 -70.6693)
variant reykjavik '-DateTimeOriginal=2015:06:06 06:06:06' -OffsetTimeOriginal=+00:00 $(gps 64.1466 -21.9426)
}
variant undated                      # no metadata, no date in the name: mtime
for f in "${img_formats[@]}"; do     # no metadata, a date in the name
  cp "$base/blank.$f" "$fx/IMG_20120102_030405-$f.$f"
done

# Explained disagreements (known-disagreements.txt, docs/formats.md).
cp "$base/blank.jpg" "$fx/future.jpg"
et '-DateTimeOriginal=2099:01:01 00:00:00' '-CreateDate=2011:01:01 01:01:01' "$fx/future.jpg"
cp "$base/blank.jpg" "$fx/null-island.jpg"
et '-DateTimeOriginal=2011:02:02 02:02:02' $(gps 0 0) "$fx/null-island.jpg"
cp "$base/blank.png" "$fx/png-creation-time.png"
et '-PNG:CreationTime=2010:03:03 03:03:03' "$fx/png-creation-time.png"

# ------------------------------------------------------------------ Motion Photos
mp4 "$work/embedded.mp4" '2023-12-25 03:34:56'
cat > "$work/motion.xmp" <<'EOF'
<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?>
<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>
<rdf:Description rdf:about='' xmlns:GCamera='http://ns.google.com/photos/1.0/camera/'
  GCamera:MotionPhoto='1' GCamera:MotionPhotoVersion='1' GCamera:MotionPhotoPresentationTimestampUs='0'/>
</rdf:RDF></x:xmpmeta>
<?xpacket end='w'?>
EOF
cp "$base/blank.jpg" "$work/google.jpg"
et '-xmp<='"$work/motion.xmp" "$work/google.jpg"
et '-DateTimeOriginal=2023:12:25 12:34:56' -OffsetTimeOriginal=+09:00 $(gps 35.6762 139.6503) "$work/google.jpg"
cat "$work/google.jpg" "$work/embedded.mp4" > "$fx/motion-google.MP.jpg"
cp "$base/blank.jpg" "$work/micro.jpg"
et -XMP-GCamera:MicroVideo=1 -XMP-GCamera:MicroVideoOffset="$(stat -c %s "$work/embedded.mp4")" \
   '-DateTimeOriginal=2019:01:01 10:10:10' "$work/micro.jpg"
cat "$work/micro.jpg" "$work/embedded.mp4" > "$fx/motion-micro.jpg"
cp "$base/blank.jpg" "$work/samsung.jpg"
et '-DateTimeOriginal=2022:06:06 06:06:06' -OffsetTimeOriginal=+02:00 "$work/samsung.jpg"
{ cat "$work/samsung.jpg"; printf 'MotionPhoto_Data'; cat "$work/embedded.mp4"; } > "$fx/motion-samsung.jpg"

# ------------------------------------------------------------------ videos
# brand:extension pairs; each video variant is written in all of them.
vid_kinds=("isom:mp4" "qt:mov" "3gp4:3gp" "M4V:m4v")
video() {  # video NAME "UTC time|0" LOCATION VERSION [exiftool-arguments...]
  local name=$1 when=$2 loc=$3 ver=$4; shift 4
  local k files=()
  for k in "${vid_kinds[@]}"; do
    mp4 "$fx/vid-$name.${k#*:}" "$when" "$loc" "$ver" "${k%%:*}"
    files+=("$fx/vid-$name.${k#*:}")
  done
  if [ $# -gt 0 ]; then et "$@" "${files[@]}"; fi
}
video paris '2023-08-01 16:30:00' '+48.8584+002.2945/' 0
video tokyo64 '2023-08-01 16:30:00' '+35.6762+139.6503/' 1
video nogps '2022-12-31 23:30:00' '' 0
video pacific '2021-05-05 05:05:05' '+10.0000-140.0000/' 0
video newyork64 '2020-11-01 05:30:00' '+40.7128-074.0060/' 1
video apple '2023-12-25 11:34:56' '' 0 '-Keys:CreationDate=2023:12:25 12:34:56.789+01:00' '-Keys:GPSCoordinates#=48.8584 2.2945 0'
video day '2022-02-02 15:00:00' '' 0 '-UserData:ContentCreateDate=2022:02:02 10:00:00-05:00'
video itemday '2021-03-03 00:00:00' '' 0 '-ItemList:ContentCreateDate=2021:03:03 09:00:00+09:00'
video unset 0 '' 0
for k in "${vid_kinds[@]}"; do mp4 "$fx/VID_20110203_040506-${k%%:*}.${k#*:}" 0 '' 0 "${k%%:*}"; done
# AVI and Matroska: recognised, dated by file name or mtime.
printf 'RIFF\x24\0\0\0AVI LIST\x04\0\0\0hdrl' > "$fx/VID_20100506_070809.avi"
printf 'RIFF\x24\0\0\0AVI LIST\x04\0\0\0hdrl' > "$fx/clip-undated.avi"
printf '\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska' > "$fx/VID_20090607_080910.mkv"
printf '\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm' > "$fx/clip-undated.webm"

# ------------------------------------------------------------------ real files
# Camera files from $PF_SAMPLES_DIR (e.g. a folder of your own phone's photos),
# and the few real images Debian packages install (no camera metadata).
if [ -n "${PF_SAMPLES_DIR:-}" ] && [ -d "$PF_SAMPLES_DIR" ]; then
  find "$PF_SAMPLES_DIR" -maxdepth 2 -type f | head -500 | while read -r f; do cp "$f" "$fx/real-$(basename "$f")"; done
fi
# Real camera JPEGs (EXIF heads of ~60 cameras and phones, 2004-2011, and a few
# corrupt ones) that Debian ships as the test data of the Go EXIF library.
mkdir -p "$fx/goexif"
for f in $(dpkg -L golang-github-rwcarlsen-goexif-dev 2>/dev/null | grep -Ei '\.jpe?g$'); do
  [ -f "$f" ] && cp "$f" "$fx/goexif/$(basename "$(dirname "$f")")-$(basename "$f")"
done
for f in $(dpkg -L libimage-exiftool-perl imagemagick-6-common libexiv2-doc nodejs 2>/dev/null |
             grep -Ei '\.(jpe?g|png|tiff?|heic|webp|gif)$' | head -20); do
  [ -f "$f" ] && cp "$f" "$fx/real-$(basename "$f")"
done

# ------------------------------------------------------------------ real-format samples
if command -v ffmpeg >/dev/null && command -v exiv2 >/dev/null; then
  bash "$root/test/formats/make-samples.sh" "$fx/samples" || { echo "compare: make-samples.sh failed"; exit 1; }
else
  echo "compare: ffmpeg or exiv2 missing: real-format samples skipped (bash scripts/install-deps.sh)"
fi

# ------------------------------------------------------------------ compare
find "$fx" -type f | sort > "$work/list"
compare_files "$work/list"
