#!/usr/bin/env bash
# Fills DIR with a small phone-like inbox: dated and GPS-tagged JPEGs in
# per-device folders, a name-dated WhatsApp image, a PNG screenshot with no
# metadata, a video, a duplicate, a same-name collision, a Syncthing
# temporary, a Live Photo (still + video + .AAE edit) and a file that is not a photo.
# usage: sample-inbox.sh DIR
set -euo pipefail
dir=$1
mkdir -p "$dir/Pixel" "$dir/iPhone" "$dir/WhatsApp"

# A real two-second H.264 clip (so the thumbnailer has a frame to show) whose
# container records a UTC capture time, as phones write it; a GPS position
# goes into the ISO 6709 ©xyz atom phones use, with exactly the given digits.
video() {  # video FILE "YYYY-MM-DDTHH:MM:SSZ" [lat, lon]
  local f=$1 when=$2 loc=${3:-} fmt=mp4
  case $f in *.MOV|*.mov) fmt=mov ;; esac
  ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=s=320x240:r=10:d=2 -c:v libx264 -preset veryfast \
    -pix_fmt yuv420p -metadata creation_time="$when" -f "$fmt" "$f"
  [ -z "$loc" ] || exiftool -q -overwrite_original -UserData:GPSCoordinates="$loc" "$f"
}

jpeg() {  # jpeg FILE COLOUR [exiftool args...]
  local f=$1 colour=$2; shift 2
  convert -size 96x64 "xc:$colour" -quality 85 "$f"
  [ $# -eq 0 ] || exiftool -q -overwrite_original "$@" "$f"
}

jpeg "$dir/iPhone/IMG_0001.JPG" skyblue -DateTimeOriginal='2023:12:25 12:34:56' -OffsetTimeOriginal='+09:00' \
  -GPSLatitude=35.6762 -GPSLatitudeRef=N -GPSLongitude=139.6503 -GPSLongitudeRef=E
jpeg "$dir/iPhone/IMG_0002.JPG" orange -DateTimeOriginal='2024:07:04 18:00:00' \
  -GPSLatitude=22.9068 -GPSLatitudeRef=S -GPSLongitude=43.1729 -GPSLongitudeRef=W
jpeg "$dir/Pixel/IMG_0001.JPG" seagreen -DateTimeOriginal='2023:12:25 08:00:00'   # same name, same day, other picture
jpeg "$dir/Pixel/PXL_20230101_101010123.jpg" gold                               # date only in the name
jpeg "$dir/WhatsApp/IMG-20220315-WA0001.jpg" plum                                # WhatsApp strips EXIF
convert -size 80x40 xc:white "$dir/Pixel/screenshot.png"
touch -d '2021-05-06 07:08:09' "$dir/Pixel/screenshot.png"                      # only the mtime knows
video "$dir/Pixel/VID_clip.mp4" 2023-08-01T16:30:00Z '48.8584, 2.2945'
cp -p "$dir/iPhone/IMG_0001.JPG" "$dir/WhatsApp/IMG_0001 copy.JPG"                # a duplicate
printf 'shopping list\n' >"$dir/Pixel/notes.txt"                                 # not a photo
printf 'half a file' >"$dir/iPhone/.syncthing.IMG_0003.JPG.tmp"                  # still syncing
# A Live Photo shot at 00:00:30 in Tokyo: the video's container time is UTC
# (the day before); it must land beside its still, with the still's offset.
jpeg "$dir/iPhone/IMG_0004.JPG" tomato -DateTimeOriginal='2024:06:02 00:00:30' -OffsetTimeOriginal='+09:00'
video "$dir/iPhone/IMG_0004.MOV" 2024-06-01T15:00:31Z
printf '<?xml version="1.0"?><plist version="1.0"><dict/></plist>\n' >"$dir/iPhone/IMG_0004.AAE"   # its iOS edit
# Everything must look settled already.
find "$dir" -type f ! -name screenshot.png -exec touch -d '-1 minute' {} +
