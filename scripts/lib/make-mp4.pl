#!/usr/bin/perl
# Writes a minimal but well-formed MP4 (ftyp + moov/mvhd [+ udta/©xyz]) with a
# given UTC creation time, for fixtures: no video encoder is needed to test
# how capture times are read from the container.
# usage: make-mp4.pl OUT "YYYY-MM-DD HH:MM:SS" [ISO6709-location] [mvhd-version 0|1] [ftyp-brand]
# (brand: isom (default), "qt  " for QuickTime .mov, 3gp4, M4V ...; a time of "0" writes 0 = "not set")
use strict;
use warnings;
use Time::Local qw(timegm);

my ($out, $when, $loc, $ver, $brand) = @ARGV;
die "usage: $0 OUT 'YYYY-MM-DD HH:MM:SS' [loc] [0|1] [brand]\n" unless $out && defined $when;
$ver ||= 0;
$brand = 'isom' unless defined $brand && length $brand;
$brand = substr($brand . '    ', 0, 4);
my $mac = 0;
if ($when ne '0') {
    my ($Y, $M, $D, $h, $m, $s) = $when =~ /^(\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+)$/ or die "bad time\n";
    $mac = timegm($s, $m, $h, $D, $M - 1, $Y) + 2082844800;    # seconds since 1904-01-01
}

sub box { my ($type, $body) = @_; return pack('N', 8 + length $body) . $type . $body; }

my $matrix = pack('N9', 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000);
my $mvhd_body = $ver == 1
  ? pack('C a3 Q> Q> N Q>', 1, "\0\0\0", $mac, $mac, 1000, 5000)
  : pack('C a3 N N N N', 0, "\0\0\0", $mac, $mac, 1000, 5000);
$mvhd_body .= pack('N n', 0x10000, 0x100) . ("\0" x 10) . $matrix . ("\0" x 24) . pack('N', 2);
my $moov_body = box('mvhd', $mvhd_body);
if (defined $loc && length $loc) {
    my $xyz = pack('n n', length $loc, 0x15c7) . $loc;
    $moov_body .= box('udta', box("\xA9xyz", $xyz));
}
my $data = box('ftyp', $brand . pack('N', 512) . ($brand eq 'isom' ? '' : $brand) . 'isomiso2mp41')
         . box('mdat', "\0" x 64)
         . box('moov', $moov_body);
open my $fh, '>:raw', $out or die "$out: $!\n";
print $fh $data;
close $fh;
