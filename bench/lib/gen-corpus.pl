#!/usr/bin/perl
# Generates a benchmark corpus of distinct, valid media files, fast and without
# downloads.
#
#   gen-corpus.pl jpeg OUTDIR COUNT MIN_BYTES MAX_BYTES SEED [PER_DAY] [PREFIX]
#   gen-corpus.pl mp4  OUTDIR COUNT MIN_BYTES MAX_BYTES SEED [PER_DAY] [PREFIX]
#
# jpeg: a few real JPEG templates are made once by ImageMagick (colour noise, so
#   the entropy-coded scan really holds most of the bytes) and tagged by exiftool
#   (DateTimeOriginal/CreateDate/ModifyDate, OffsetTimeOriginal, GPS, Make/Model).
#   Each file is a template with its date strings rewritten in place (so files
#   spread over PER_DAY-sized day folders), a unique COM segment inserted after
#   the APPn segments (so every file has its own SHA-256), and trailing bytes
#   after EOI (as phones append motion-photo trailers) up to its target size.
# mp4: scripts/lib/make-mp4.pl writes ftyp + moov with the capture time and a GPS
#   position; the file is rewritten as ftyp + a large mdat (unique header, then
#   filler) + moov at the end, as cameras record them.
#
# Sizes are spread deterministically over [MIN_BYTES, MAX_BYTES]. Prints one
# summary line: "files=N bytes=B". Nothing is downloaded; only perl core modules.
use strict;
use warnings;
use Digest::SHA qw(sha256);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use POSIX qw(floor);
use Time::Local qw(timegm);

my ($kind, $out, $count, $min, $max, $seed, $per_day, $prefix) = @ARGV;
die "usage: $0 jpeg|mp4 OUTDIR COUNT MIN_BYTES MAX_BYTES SEED [PER_DAY] [PREFIX]\n"
    unless defined $seed && $kind =~ /^(jpeg|mp4)$/ && $count =~ /^\d+$/ && $min =~ /^\d+$/ && $max =~ /^\d+$/;
$per_day //= 10;
$prefix //= $kind eq 'mp4' ? 'VID_' : 'IMG_';
$max = $min if $max < $min;
my $root = dirname(dirname(dirname(__FILE__)));   # repository root (bench/lib/..)
make_path($out);
my $tmpl_dir = "$out/../.templates-" . join('-', $kind, $min, $max, $seed);
make_path($tmpl_dir);

# --- filler: 8 MiB of deterministic pseudo-random bytes (SHA-256 in counter mode)
my $POOL = 8 << 20;
my $pool = '';
{
    my @parts;
    for (my $i = 0; $i < $POOL / 32; $i++) { push @parts, sha256("$seed:$i"); }
    $pool = join('', @parts);
}

sub write_filler {    # writes N filler bytes, starting at a file-specific offset
    my ($fh, $n, $start) = @_;
    my $off = $start % $POOL;
    while ($n > 0) {
        my $take = $POOL - $off;
        $take = $n if $take > $n;
        my $w = syswrite($fh, $pool, $take, $off);
        die "write: $!\n" unless defined $w && $w == $take;
        $n -= $take;
        $off = 0;
    }
}

sub target_size {     # deterministic spread over [min, max] (golden-ratio sequence)
    my ($i) = @_;
    my $frac = ($i * 0.6180339887498949 + ($seed % 1000) / 1000) - floor($i * 0.6180339887498949 + ($seed % 1000) / 1000);
    return $min + int(($max - $min) * $frac);
}

sub capture_time {    # PER_DAY files per day from 2016-03-01, spread through the day
    my ($i) = @_;
    my $base = timegm(0, 0, 8, 1, 2, 2016);
    my $day = int($i / $per_day);
    my $t = $base + $day * 86400 + ($i % $per_day) * int(43200 / $per_day) + ($i * 7) % 60;
    my @g = gmtime($t);
    return ($t, sprintf('%04d:%02d:%02d %02d:%02d:%02d', $g[5] + 1900, $g[4] + 1, $g[3], $g[2], $g[1], $g[0]),
            sprintf('%04d-%02d-%02d %02d:%02d:%02d', $g[5] + 1900, $g[4] + 1, $g[3], $g[2], $g[1], $g[0]));
}

sub slurp { my ($f) = @_; open my $fh, '<:raw', $f or die "$f: $!\n"; local $/; my $d = <$fh>; close $fh; return $d; }

sub run { system(@_) == 0 or die "failed: @_\n"; }

my ($files, $bytes) = (0, 0);

if ($kind eq 'jpeg') {
    my $PLACEHOLDER = '2000:01:01 00:00:00';
    # Template sizes: geometric from 85 % of MIN up to MAX, so every target has a
    # template that is a little smaller (the rest is trailer).
    my @want;
    for (my $s = int($min * 0.85); ; $s = int($s * 1.5)) { push @want, $s; last if $s >= $max * 0.85 || @want >= 8; }
    my $bpp = 1.6;    # bytes per pixel of colour noise at quality 90; re-measured below
    my @tmpl;         # [bytes, header_end, scan_and_rest, date offsets]
    for my $j (0 .. $#want) {
        my $file = "$tmpl_dir/t$j.jpg";
        if (!-s $file) {
            my $data;
            for my $try (1 .. 3) {
                my $px = $want[$j] / $bpp;
                my $w = int(sqrt($px * 4 / 3)); $w = 16 if $w < 16;
                my $h = int($w * 3 / 4);        $h = 16 if $h < 16;
                run('convert', '-seed', $seed + $j, '-size', "${w}x${h}", 'xc:', '+noise', 'Random',
                    '-quality', '90', "$file.tmp.jpg");
                run('exiftool', '-q', '-overwrite_original', '-Make=PhotofactoryBench', '-Model=Generator 1',
                    "-DateTimeOriginal=$PLACEHOLDER", "-CreateDate=$PLACEHOLDER", "-ModifyDate=$PLACEHOLDER",
                    '-OffsetTimeOriginal=+02:00', '-GPSLatitude=48.858370', '-GPSLatitudeRef=N',
                    '-GPSLongitude=2.294481', '-GPSLongitudeRef=E', '-GPSAltitude=35', '-GPSAltitudeRef=0',
                    "$file.tmp.jpg");
                my $got = -s "$file.tmp.jpg";
                $bpp = $got / ($w * $h);
                last if $got <= $want[$j] * 1.05 || $try == 3;
            }
            rename("$file.tmp.jpg", $file) or die "$file: $!\n";
        }
        my $d = slurp($file);
        die "$file: not a JPEG\n" unless substr($d, 0, 2) eq "\xFF\xD8";
        # Walk the APPn segments: the COM segment goes right after them.
        my $p = 2;
        while ($p + 4 <= length $d) {
            my ($ff, $m, $len) = unpack('C C n', substr($d, $p, 4));
            die "$file: bad marker at $p\n" unless $ff == 0xFF;
            last unless $m >= 0xE0 && $m <= 0xEF;
            $p += 2 + $len;
        }
        my $head = substr($d, 0, $p);
        my @at;
        my $from = 0;
        while ((my $k = index($head, $PLACEHOLDER, $from)) >= 0) { push @at, $k; $from = $k + 1; }
        die "$file: no EXIF date found\n" unless @at;
        push @tmpl, { size => length $d, head => $head, rest => substr($d, $p), dates => \@at };
    }
    @tmpl = sort { $a->{size} <=> $b->{size} } @tmpl;

    for my $i (0 .. $count - 1) {
        my $target = target_size($i);
        my (undef, $exif_date) = capture_time($i);
        my $com_text = sprintf('photofactory bench %s #%d seed %d %s', $prefix, $i, $seed, 'x' x 16);
        my $com = pack('C C n', 0xFF, 0xFE, 2 + length $com_text) . $com_text;
        my $t = $tmpl[0];
        for my $c (@tmpl) { $t = $c if $c->{size} + length($com) <= $target; }
        my $head = $t->{head};
        substr($head, $_, 19, $exif_date) for @{ $t->{dates} };
        my $name = sprintf('%s/%s%06d.jpg', $out, $prefix, $i);
        open my $fh, '>:raw', $name or die "$name: $!\n";
        my $data = $head . $com . $t->{rest};
        syswrite($fh, $data) == length $data or die "$name: $!\n";
        my $pad = $target - length $data;
        write_filler($fh, $pad, $i * 104729) if $pad > 0;
        close $fh or die "$name: $!\n";
        $files++;
        $bytes += length($data) + ($pad > 0 ? $pad : 0);
    }
} else {
    for my $i (0 .. $count - 1) {
        my $target = target_size($i);
        my (undef, undef, $when) = capture_time($i);
        my $tmp = "$tmpl_dir/v$i.mp4";
        run('perl', "$root/scripts/lib/make-mp4.pl", $tmp, $when, '+48.8584+002.2945+035.000/', 0);
        my $d = slurp($tmp);
        unlink $tmp;
        my %box;
        my $p = 0;
        while ($p + 8 <= length $d) {
            my ($size, $type) = unpack('N a4', substr($d, $p, 8));
            $box{$type} = substr($d, $p, $size);
            $p += $size;
        }
        die "make-mp4.pl output lacks ftyp/moov\n" unless $box{ftyp} && $box{moov};
        my $unique = sprintf('photofactory bench %s #%d seed %d', $prefix, $i, $seed);
        $unique .= ' ' x (64 - length $unique);
        my $fixed = length($box{ftyp}) + length($box{moov}) + 64;
        my $payload = $target - $fixed - 16;
        $payload = 0 if $payload < 0;
        my $mdat_hdr = pack('N a4 Q>', 1, 'mdat', 16 + 64 + $payload);    # 64-bit largesize form
        my $name = sprintf('%s/%s%04d.mp4', $out, $prefix, $i);
        open my $fh, '>:raw', $name or die "$name: $!\n";
        my $first = $box{ftyp} . $mdat_hdr . $unique;
        syswrite($fh, $first) == length $first or die "$name: $!\n";
        write_filler($fh, $payload, $i * 7340033);
        syswrite($fh, $box{moov}) == length $box{moov} or die "$name: $!\n";
        close $fh or die "$name: $!\n";
        $files++;
        $bytes += length($first) + $payload + length($box{moov});
    }
}
print "files=$files bytes=$bytes\n";
