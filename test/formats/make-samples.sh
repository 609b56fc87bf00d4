#!/usr/bin/env bash
# Real-format samples made with the original tools, not with photofactory's own
# writers: ffmpeg muxes MP4/MOV/3GP/MKV/WebM/AVI/WMV/MPEG-TS with creation_time
# and location metadata (and encodes real H.264, VP8, H.263 ... frames);
# AVCHD-style .MTS files get the camcorders' H.264 SEI "MDPM" record; AVI files
# get the IDIT and strd/AVIF EXIF chunks cameras write; exiftool writes the
# IPTC/XMP/EXIF combinations that editors and scanners leave; exiv2 writes GPS
# rationals with numerators above 2^31 as iPhones do; ImageMagick writes a
# multi-page TIFF. Used by compare.sh (CI) and by compare.sh --dir.
#
# usage: test/formats/make-samples.sh OUTDIR      (needs ffmpeg, exiftool, exiv2, convert, perl)
set -euo pipefail
out=$1
mkdir -p "$out"
for tool in ffmpeg exiftool exiv2 convert perl; do
  command -v "$tool" >/dev/null || { echo "make-samples: $tool is missing (bash scripts/install-deps.sh)" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/pf-samples.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
et() { exiftool -q -q -m -overwrite_original "$@"; }
ff() { ffmpeg -nostdin -v error -y "$@"; }
src() { echo -f lavfi -i "testsrc=size=${1:-128x96}:rate=5:duration=1"; }

# ------------------------------------------------------------------ ffmpeg containers
# place: name, UTC creation time, ISO 6709 location ("" for none)
places=("paris|2021-06-07T08:09:10Z|+48.8584+002.2945/"
        "tokyo|2019-12-31T23:30:00Z|+35.6762+139.6503/"
        "rio|2018-02-03T04:05:06Z|-22.9068-043.1729/"
        "nogps|2017-07-07T07:07:07Z|")
# shellcheck disable=SC2046  # src's words are separate arguments
for p in "${places[@]}"; do
  IFS='|' read -r name when loc <<<"$p"
  meta=(-metadata "creation_time=$when")
  [ -n "$loc" ] && meta+=(-metadata "location=$loc")
  ff $(src) "${meta[@]}" "$out/ff-$name.mp4"
  ff $(src) "${meta[@]}" "$out/ff-$name.mov"
  ff $(src) "${meta[@]}" "$out/ff-$name.3gp"
  ff $(src) "${meta[@]}" "$out/ff-$name.mkv"
  ff $(src) "${meta[@]}" -c:v libvpx "$out/ff-$name.webm"
  ff $(src) "${meta[@]}" "$out/ff-$name.wmv"
  ff $(src) "${meta[@]}" -metadata "date=${when%Z}" "$out/ff-$name.avi"   # INFO ICRD
  ff $(src) "${meta[@]}" "$out/ff-$name.ts"                               # no date in MPEG-TS
done
ff $(src) "$out/ff-undated.mp4"
ff $(src) "$out/VID_20160102_030405.mkv"
ff $(src) "$out/20150607_080910.ts"

# ------------------------------------------------------------------ AVCHD (.MTS with MDPM)
# H.264 from libx264 without its own SEI, an MDPM SEI NAL put before the first
# IDR slice (with H.264 emulation prevention), remuxed by ffmpeg as BDAV M2TS.
ff $(src) -c:v libx264 -bf 0 -bsf:v filter_units=remove_types=6 -f h264 "$tmp/raw.h264"
mdpm() {  # mdpm OUT zone-byte YYYY MM DD hh mm ss [N|S deg min sec-x100 E|W deg min sec-x100]
  perl -e '
    my ($in, $out, $tz, $Y, $M, $D, $h, $m, $s, @g) = @ARGV;
    my $bcd = sub { my $v = shift; chr((int($v / 10) << 4) | ($v % 10)) };
    my @e = ([0x18, chr(hex $tz) . $bcd->(int($Y / 100)) . $bcd->($Y % 100) . $bcd->($M)],
             [0x19, $bcd->($D) . $bcd->($h) . $bcd->($m) . $bcd->($s)]);
    if (@g) {
      push @e, [0xb1, "$g[0]\0\0\0"], [0xb2, pack("nn", $g[1], 1)], [0xb3, pack("nn", $g[2], 1)],
               [0xb4, pack("nn", $g[3], 100)], [0xb5, "$g[4]\0\0\0"], [0xb6, pack("nn", $g[5], 1)],
               [0xb7, pack("nn", $g[6], 1)], [0xb8, pack("nn", $g[7], 100)];
    }
    my $pl = pack("H*", "17ee8c60f84d11d98cd60800200c9a66") . "MDPM" . chr(scalar @e) . join("", map { chr($_->[0]) . $_->[1] } @e);
    my $sei = "\x05" . chr(length $pl) . $pl . "\x80";
    $sei =~ s/\x00\x00(?=[\x00-\x03])/\x00\x00\x03/g;
    local $/; open my $fh, "<:raw", $in or die; my $es = <$fh>; close $fh;
    my $at = index($es, "\x00\x00\x01\x65"); die "no IDR slice\n" if $at < 0;
    $at-- if $at > 0 && substr($es, $at - 1, 1) eq "\x00";
    substr($es, $at, 0) = "\x00\x00\x00\x01\x06" . $sei;
    open my $oh, ">:raw", $out or die; print $oh $es; close $oh;
  ' "$tmp/raw.h264" "$tmp/mdpm.h264" "${@:2}"
  ff -fflags +genpts -f h264 -framerate 5 -i "$tmp/mdpm.h264" -c copy -mpegts_m2ts_mode 1 "$1"
}
mdpm "$out/avchd-berlin.MTS" 02 2014 07 13 21 15 42 N 52 31 1234 E 13 24 5678   # +01:00 (no DST flag)
mdpm "$out/avchd-newyork.MTS" 28 2013 11 02 09 08 07 N 40 42 4608 W 74 0 2160   # 0x28: -04:00
mdpm "$out/avchd-mumbai.M2TS" 0b 2012 03 04 05 06 07                             # 0x0b: +05:30, no GPS

# ------------------------------------------------------------------ AVI IDIT and strd
avi_insert() {  # avi_insert IN OUT CHUNK-ID CHUNK-FILE [strl]: a chunk at the end of hdrl (or of its first strl)
  perl -e '
    my ($in, $out, $id, $file, $where) = @ARGV;
    local $/; open my $fh, "<:raw", $in or die; my $a = <$fh>; close $fh;
    open my $ch, "<:raw", $file or die; my $data = <$ch>; close $ch;
    my $chunk = $id . pack("V", length $data) . $data . (length($data) % 2 ? "\0" : "");
    die "no hdrl\n" unless substr($a, 12, 4) eq "LIST" && substr($a, 20, 4) eq "hdrl";
    my @fix = (4, 16);                        # RIFF and hdrl size fields
    my $end = 20 + unpack("V", substr($a, 16, 4));
    if (($where // "") eq "strl") {
      for (my $o = 24; $o + 12 <= $end;) {
        my ($cid, $size) = (substr($a, $o, 4), unpack("V", substr($a, $o + 4, 4)));
        if ($cid eq "LIST" && substr($a, $o + 8, 4) eq "strl") { push @fix, $o + 4; $end = $o + 8 + $size; last }
        $o += 8 + $size + ($size % 2);
      }
    }
    substr($a, $end, 0) = $chunk;
    substr($a, $_, 4) = pack("V", unpack("V", substr($a, $_, 4)) + length $chunk) for @fix;
    open my $oh, ">:raw", $out or die; print $oh $a; close $oh;
  ' "$@"
}
ff $(src) "$tmp/plain.avi"
printf 'Mon Mar 10 15:04:43 2003\n\0' > "$tmp/idit1"
avi_insert "$tmp/plain.avi" "$out/camera-idit.avi" IDIT "$tmp/idit1"
printf '2005/11/28/ 09:19\0' > "$tmp/idit2"
avi_insert "$tmp/plain.avi" "$out/casio-idit.avi" IDIT "$tmp/idit2"
# strd "AVIF" as Fujifilm/Pentax cameras write it: "AVIF", 4 bytes, then a
# little-endian EXIF IFD0 whose offsets count from the IFD itself. Made from
# exiftool's EXIF block (offsets from its TIFF header) by moving every offset 8 back.
convert -size 8x8 xc:gray "$tmp/e.jpg"
et -ExifByteOrder=Little-endian '-DateTimeOriginal=2011:08:09 10:11:12' -OffsetTimeOriginal=+09:00 \
   -GPSLatitude=35.6762 -GPSLatitudeRef=N -GPSLongitude=139.6503 -GPSLongitudeRef=E "$tmp/e.jpg"
exiftool -b -EXIF "$tmp/e.jpg" > "$tmp/e.tiff"
perl -e '
  local $/; open my $fh, "<:raw", $ARGV[0] or die; my $t = <$fh>; close $fh;
  my %size = (1, 1, 2, 1, 3, 2, 4, 4, 5, 8, 6, 1, 7, 1, 8, 2, 9, 4, 10, 8, 11, 4, 12, 8);
  my %sub = (0x8769, 1, 0x8825, 1, 0xA005, 1);
  my @todo = (unpack("V", substr($t, 4, 4))); my %seen;
  while (defined(my $ifd = shift @todo)) {
    next if $seen{$ifd}++;
    my $n = unpack("v", substr($t, $ifd, 2));
    for my $i (0 .. $n - 1) {
      my $e = $ifd + 2 + 12 * $i;
      my ($tag, $type, $count, $val) = unpack("vvVV", substr($t, $e, 12));
      if ($sub{$tag}) { push @todo, $val; substr($t, $e + 8, 4) = pack("V", $val - 8); }
      elsif (($size{$type} // 1) * $count > 4) { substr($t, $e + 8, 4) = pack("V", $val - 8); }
    }
    substr($t, $ifd + 2 + 12 * $n, 4) = pack("V", 0);   # no IFD1 (thumbnail)
  }
  print "AVIF\0\0\0\0" . substr($t, 8);
' "$tmp/e.tiff" > "$tmp/strd"
avi_insert "$tmp/plain.avi" "$out/camera-strd.avi" strd "$tmp/strd" strl

# ------------------------------------------------------------------ stills: IPTC / XMP / EXIF combinations
convert -size 64x48 xc:steelblue "$tmp/blank.jpg"
convert -size 64x48 xc:steelblue "$tmp/blank.tif"
still() {  # still NAME exiftool-arguments... : a JPEG and a TIFF
  local name=$1; shift
  for e in jpg tif; do
    cp "$tmp/blank.$e" "$out/$name.$e"
    et "$@" "$out/$name.$e"
  done
}
still edited-xmp '-ModifyDate=2020:01:02 03:04:05' '-XMP-photoshop:DateCreated=2016:09:10 11:12:13'
still edited-xmp-exif '-ModifyDate=2020:01:02 03:04:05' '-XMP-exif:DateTimeOriginal=2019:05:06 07:08:09+02:00'
still edited-xmp-create '-ModifyDate=2020:01:02 03:04:05' '-XMP-xmp:CreateDate=2015:01:02 03:04:05-05:00'
still scanned-iptc '-ModifyDate=2020:01:02 03:04:05' '-IPTC:DateCreated=2014:03:04' '-IPTC:TimeCreated=05:06:07+01:30'
still iptc-noon '-IPTC:DateCreated=1999:12:31' '-IPTC:TimeCreated=12:00:00+00:00'
still dateonly-plus-iptc-time '-XMP-photoshop:DateCreated=2013:07:08' '-IPTC:TimeCreated=09:10:11-05:00' '-ModifyDate=2021:01:01 00:00:00'
still dateonly-sameday '-XMP-photoshop:DateCreated=2012:06:07' '-ModifyDate=2012:06:07 18:19:20'
still scanner-modify-only '-ModifyDate=2011:11:11 11:11:11'
still original-beats-all '-DateTimeOriginal=2010:10:10 10:10:10' '-ModifyDate=2020:01:02 03:04:05' \
      '-XMP-photoshop:DateCreated=2016:09:10 11:12:13' '-IPTC:DateCreated=2014:03:04'
# iPhone-style GPS seconds with numerators above 2^31 (exiv2 writes the rationals as given).
for e in jpg tif; do
  cp "$tmp/blank.$e" "$out/iphone-gps.$e"
  exiv2 -M'set Exif.Photo.DateTimeOriginal 2024:05:06 07:08:09' -M'set Exif.GPSInfo.GPSLatitudeRef N' \
        -M'set Exif.GPSInfo.GPSLatitude 37/1 46/1 2564660003/100000000' -M'set Exif.GPSInfo.GPSLongitudeRef W' \
        -M'set Exif.GPSInfo.GPSLongitude 122/1 25/1 4000000000/100000000' "$out/iphone-gps.$e"
done
# Two pages, each with its own date: the first page's counts.
convert -size 32x24 xc:red xc:blue "$out/multipage.tif"
et '-IFD0:ModifyDate=2001:01:01 01:01:01' '-IFD1:ModifyDate=2002:02:02 02:02:02' "$out/multipage.tif"
echo "make-samples: $(find "$out" -type f | wc -l) files in $out"
