#!/usr/bin/env bash
# Builds the libFuzzer target test/fuzz/fuzz_metadata.cpp (clang, ASan + UBSan)
# against the core sources, Exiv2 and libcrypto, generates a small seed corpus
# (JPEG with EXIF/GPS/XMP, PNG, TIFF, WebP, HEIC, MP4/MOV boxes, crafted
# hostile files) and fuzzes for SECONDS (default 60).
#
#   bash test/fuzz/run.sh [SECONDS]
#
#   PF_FUZZ_DIR    work folder (default build/fuzz): binary, seeds, corpus, crashes
#   PF_FUZZ_ARGS   extra libFuzzer flags (e.g. "-jobs=2 -workers=2")
#   PF_FUZZ_SEED   libFuzzer -seed (default: random; CI passes one for repeatable runs)
#
# The corpus grows in $PF_FUZZ_DIR/corpus and is reused by later runs. A crash
# leaves its input in $PF_FUZZ_DIR/crashes/ and makes the script fail; replay it
# with  $PF_FUZZ_DIR/fuzz_metadata FILE.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${1:-60}
dir=${PF_FUZZ_DIR:-$root/build/fuzz}
mkdir -p "$dir/seeds" "$dir/corpus" "$dir/crashes"
bin=$dir/fuzz_metadata
CXX=${PF_FUZZ_CXX:-$(command -v clang++-14 || command -v clang++ || true)}
[ -n "$CXX" ] || { echo "run.sh: clang++ not found (bash scripts/install-deps.sh)" >&2; exit 1; }

# ---- build (only when a source is newer than the binary)
srcs=("$root"/src/core/*.cpp)
if [ ! -x "$bin" ] || [ -n "$(find "$root/src/core" "$here" -newer "$bin" \( -name '*.cpp' -o -name '*.hpp' \) -print -quit)" ]; then
  echo "# building $bin with $CXX"
  objs=()
  mkdir -p "$dir/obj"
  flags=(-std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
         -fno-sanitize-recover=undefined -Wall -Wextra -Werror -Wno-deprecated-declarations
         -I"$root/src" $(pkg-config --cflags exiv2 vips libjpeg libavformat libavcodec libswscale libavutil libcurl libxml-2.0))
  pids=()
  for s in "${srcs[@]}"; do
    o=$dir/obj/$(basename "${s%.cpp}").o
    objs+=("$o")
    "$CXX" "${flags[@]}" -DPF_BUILDING_CORE -c "$s" -o "$o" & pids+=($!)
    if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
  done
  for p in "${pids[@]}"; do wait "$p"; done
  "$CXX" "${flags[@]}" -fsanitize=fuzzer "$here/fuzz_metadata.cpp" "${objs[@]}" -o "$bin" \
    $(pkg-config --libs exiv2 vips libjpeg libavformat libavcodec libswscale libavutil libcurl libxml-2.0) -lcrypto
fi

# ---- seed corpus (generated once; the tools are the test fixtures' own)
seeds=$dir/seeds
if [ ! -f "$seeds/.done" ]; then
  echo "# generating seeds in $seeds"
  mk=$root/scripts/lib/make-mp4.pl
  if command -v convert >/dev/null; then
    convert -size 16x12 xc:skyblue -quality 70 "$seeds/exif.jpg"
    if command -v exiftool >/dev/null; then
      exiftool -q -overwrite_original -DateTimeOriginal='2023:12:25 12:34:56' -OffsetTimeOriginal='+09:00' \
        -SubSecTimeOriginal=123 -CreateDate='2023:12:25 12:34:56' -ModifyDate='2023:12:25 12:34:56' \
        -GPSLatitude=35.6762 -GPSLatitudeRef=N -GPSLongitude=139.6503 -GPSLongitudeRef=E \
        '-XMP-exif:DateTimeOriginal=2020:03:03 03:03:03+01:00' -Make=Phone -Model=Fuzz "$seeds/exif.jpg"
    fi
    convert -size 8x8 xc:white "$seeds/plain.png"
    convert -size 8x8 xc:red "$seeds/tiny.tif"
    convert -size 8x8 xc:blue "$seeds/tiny.webp" 2>/dev/null || true
    convert -size 8x8 xc:green "$seeds/tiny.heic" 2>/dev/null || true
    if command -v exiftool >/dev/null; then
      for f in "$seeds/plain.png" "$seeds/tiny.tif" "$seeds/tiny.webp" "$seeds/tiny.heic"; do
        [ -s "$f" ] && exiftool -q -overwrite_original -DateTimeOriginal='2022:02:02 02:02:02' \
          -GPSLatitude=48.85 -GPSLatitudeRef=N -GPSLongitude=2.29 -GPSLongitudeRef=E "$f" 2>/dev/null || true
      done
    fi
  fi
  perl "$mk" "$seeds/clip.mp4" '2023-08-01 16:30:00' '+48.8584+002.2945/'
  perl "$mk" "$seeds/clip64.mp4" '2023-08-01 16:30:00' '' 1
  # QuickTime keys/ilst with the Apple creation date and location; a 64-bit
  # (largesize) box; a size-0 (to the end) box; a truncated moov.
  perl -e '
    sub box { pack("N", 8 + length $_[1]) . $_[0] . $_[1] }
    my @k = ("com.apple.quicktime.creationdate", "com.apple.quicktime.location.ISO6709");
    my $keys = box("keys", pack("N N", 0, scalar @k) . join("", map { pack("N", 8 + length) . "mdta" . $_ } @k));
    my $ilst = box("ilst", box(pack("N", 1), box("data", pack("N N", 1, 0) . "2023-07-01T10:00:00+0200"))
                        . box(pack("N", 2), box("data", pack("N N", 1, 0) . "+35.6762+139.6503/")));
    my $meta = box("meta", box("hdlr", "\0" x 8 . "mdta" . "\0" x 13) . $keys . $ilst);
    print box("ftyp", "qt  " . pack("N", 0) . "qt  ") . box("moov", box("mvhd", "\0" x 100) . $meta);
  ' >"$seeds/apple.mov"
  perl -e 'print pack("N", 20) . "ftypisom" . pack("N", 0) . "isom" . pack("N", 1) . "mdat" . pack("Q>", 24) . "\0" x 8 . pack("N", 0) . "moov"' >"$seeds/largesize.mp4"
  head -c 60 "$seeds/clip.mp4" >"$seeds/truncated.mp4"
  # EXIF whose IFD0 claims 65535 entries, and one whose IFD points at itself.
  perl -e 'my $t = "II*\0" . pack("V", 8) . pack("v", 65535) . pack("vvVV", 0x8769, 4, 1, 8);
           print "\xFF\xD8\xFF\xE1" . pack("n", 8 + length $t) . "Exif\0\0" . $t . "\xFF\xD9"' >"$seeds/huge_ifd.jpg"
  perl -e 'my $t = "MM\0*" . pack("N", 8) . pack("n", 1) . pack("nnNN", 0x8769, 4, 1, 8) . pack("N", 8);
           print "\xFF\xD8\xFF\xE1" . pack("n", 8 + length $t) . "Exif\0\0" . $t . "\xFF\xD9"' >"$seeds/self_ifd.jpg"
  # Other video containers as ffmpeg writes them (dates, places), when it is installed;
  # an AVCHD-style MPEG-TS with an MDPM SEI comes from test/formats/make-samples.sh.
  if command -v ffmpeg >/dev/null; then
    for f in avi mkv wmv ts 3gp; do
      ffmpeg -v error -y -f lavfi -i testsrc=size=128x96:rate=2:duration=1 -metadata creation_time=2021-06-07T08:09:10Z \
        -metadata location=+48.8584+002.2945/ -metadata date=2021-06-07T08:09:10 "$seeds/ff.$f" </dev/null || true
    done
  fi
  perl -e 'print "RIFF" . pack("V", 60) . "AVI LIST" . pack("V", 48) . "hdrlIDIT" . pack("V", 26) . "Mon Mar 10 15:04:43 2003\n\0"' >"$seeds/idit.avi"
  touch "$seeds/.done"
fi

# ---- fuzz
dict=$here/metadata.dict
seed_arg=()
[ -n "${PF_FUZZ_SEED:-}" ] && seed_arg=(-seed="$PF_FUZZ_SEED")
echo "# fuzzing for ${seconds}s (corpus $dir/corpus, $(find "$dir/corpus" -type f | wc -l) inputs)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
set +e
# shellcheck disable=SC2086
"$bin" "$dir/corpus" "$seeds" -dict="$dict" -max_total_time="$seconds" -max_len=65536 -timeout=20 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/crashes/" "${seed_arg[@]}" \
  ${PF_FUZZ_ARGS:-} >"$dir/last-run.log" 2>&1
rc=$?
set -e
grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::' "$dir/last-run.log" || true
if [ "$rc" -ne 0 ]; then
  grep -E -A45 '^==[0-9]+==(ERROR|WARNING)|runtime error:|^ERROR: libFuzzer' "$dir/last-run.log" | head -80
  echo "not ok - fuzz_metadata found a crash (exit $rc); input in $dir/crashes/, log in $dir/last-run.log"
  exit 1
fi
execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/last-run.log" | grep -o '[0-9]*$' || echo '?')
echo "ok - fuzz_metadata: ${seconds}s, $execs executions, $(find "$dir/corpus" -type f | wc -l) corpus inputs, no crash"
