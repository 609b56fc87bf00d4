#!/usr/bin/perl
# Compares pf-inspect's facts with exiftool's reading of the same files
# (test/formats/compare.sh). usage: compare.pl PF.jsonl EXIFTOOL.json KNOWN.txt NOW [real]
# With "real" (compare.sh --dir): judged by the targets of issue #11 — at least 99 % of the
# files agree on the date and every GPS position agrees — rather than by the known list.
#
# What exiftool says, turned into what photofactory should have found — the
# tag order of docs/formats.md, with exiftool as the reader of each tag:
#   stills: creation dates first — DateTimeOriginal (+OffsetTimeOriginal, SubSecTimeOriginal),
#           CreateDate (+OffsetTimeDigitized, SubSecTimeDigitized), XMP exif:DateTimeOriginal,
#           photoshop:DateCreated, xmp:CreateDate, IPTC DateCreated+TimeCreated — then IFD0
#           ModifyDate (+OffsetTime, SubSecTime), (PNG text Creation Time): the local wall
#           clock, with its offset when there is one. A date-only creation date takes IPTC
#           TimeCreated, else the time of a later candidate on the same day, else midnight.
#   videos: Keys:CreationDate (local + offset), then ©day (ContentCreateDate) or udta `date`
#           (UserData:DateTimeOriginal) with a zone, then the camera's clock (AVI IDIT =
#           RIFF:DateTimeOriginal, AVI strd EXIF, AVCHD MDPM = H264:DateTimeOriginal, AVI ICRD
#           with a time), then QuickTime:CreateDate (mvhd), Matroska:DateTimeOriginal, ASF:CreationDate
#           (UTC): compared as an instant with pf's utc_epoch.
#   neither: photofactory must fall back to the file name or the mtime.
# Placeholders such as 0000:00:00 00:00:00 are not dates (exiftool prints them verbatim).
# GPS: exiftool's signed decimal degrees (Composite, XMP, GPS, QuickTime GPSCoordinates) against
# pf's location, to 1e-6 degrees (11 cm; pf keeps 7 decimals); 3GPP `loci`, which exiftool only
# prints with 5 decimals (UserData:LocationInformation "Lat=48.8584 Lon=2.29449"), to that print's
# rounding (half of its last decimal).
use strict;
use warnings;
use JSON::PP;
use Time::Local qw(timegm);
use File::Basename qw(basename);

my ($pf_file, $et_file, $known_file, $now, $mode) = @ARGV;
my $real = ($mode // '') eq 'real';
die "usage: $0 PF.jsonl EXIFTOOL.json KNOWN.txt NOW\n" unless $known_file;
my $json = JSON::PP->new->allow_nonref;

my %pf;
open my $ph, '<', $pf_file or die "$pf_file: $!\n";
while (my $line = <$ph>) {
    next unless $line =~ /\S/;
    my $o = $json->decode($line);
    $pf{ $o->{file} } = $o;
}
close $ph;

my %et;
{
    local $/;
    open my $eh, '<', $et_file or die "$et_file: $!\n";
    my $text = <$eh>;
    close $eh;
    for my $o (@{ $json->decode($text || '[]') }) { $et{ $o->{SourceFile} } = $o; }
}

my %known;    # "file\taspect" => reason
open my $kh, '<', $known_file or die "$known_file: $!\n";
while (<$kh>) {
    chomp;
    next if /^\s*(#|$)/;
    my ($file, $aspect, $reason) = split /\t+/, $_, 3;
    $known{"$file\t$aspect"} = $reason;
}
close $kh;

# Zone labels the GPS rule must give (file-name prefix => time_zone), checked on
# every UTC-only video; pf-inspect ran with --zone Europe/Paris.
my %zone_of = (
    'vid-paris'     => 'gps:Europe/Paris',
    'vid-tokyo64'   => 'gps:Asia/Tokyo',
    'vid-pacific'   => 'gps:Etc/GMT+9',
    'vid-newyork64' => 'gps:America/New_York',
    'vid-nogps'     => 'default:Europe/Paris',
);

sub valid_date {    # "YYYY:MM:DD HH:MM:SS[.fff][zone]" -> [wall, fraction, offset-minutes|undef]
    my ($s) = @_;
    return undef unless defined $s && !ref $s;
    my ($Y, $M, $D, $h, $m, $sec, $frac, $zone) =
      $s =~ /^(\d{4})[:-](\d\d)[:-](\d\d)[ T](\d\d):(\d\d)(?::(\d\d))?(\.\d+)?\s*(Z|[+-]\d\d:?\d\d)?(?: DST)?$/
      or return undef;
    $sec //= '00';
    return undef if $Y < 1900 || $M < 1 || $M > 12 || $D < 1 || $h > 23 || $m > 59 || $sec > 60;
    my @mdays = (31, ($Y % 4 == 0 && $Y % 100 != 0) || $Y % 400 == 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31);
    return undef if $D > $mdays[$M - 1];
    return [sprintf('%04d-%02d-%02d %02d:%02d:%02d', $Y, $M, $D, $h, $m, $sec), $frac, offset_minutes($zone)];
}

sub offset_minutes {
    my ($z) = @_;
    return undef unless defined $z && length $z;
    return 0 if $z eq 'Z';
    my ($sign, $hh, $mm) = $z =~ /^([+-])(\d\d):?(\d\d)$/ or return undef;
    my $v = $hh * 60 + $mm;
    return $sign eq '-' ? -$v : $v;
}

sub fraction {    # ".123" or subsec digits "123" -> ".123" as pf prints it (microseconds, trailing zeros cut)
    my ($f) = @_;
    return '' unless defined $f && length $f;
    $f =~ s/^\.//;
    $f =~ s/\D.*//;
    $f = substr($f . '000000', 0, 6);
    $f =~ s/0+$//;
    return length $f ? ".$f" : '';
}

sub epoch_of {    # wall clock read as UTC
    my ($w) = @_;
    my ($Y, $M, $D, $h, $m, $s) = $w =~ /^(\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+)$/;
    return timegm($s, $m, $h, $D, $M - 1, $Y);
}

sub first_of { my ($e, @keys) = @_; for (@keys) { return $e->{$_} if defined $e->{$_} } return undef; }

sub valid_day {    # "YYYY:MM:DD" alone (XMP and IPTC dates without a time of day) -> "YYYY-MM-DD"
    my ($s) = @_;
    return undef unless defined $s && !ref $s;
    my ($Y, $M, $D) = $s =~ /^(\d{4})[:-](\d\d)[:-](\d\d)$/ or return undef;
    return valid_date("$Y:$M:$D 00:00:00") ? "$Y-$M-$D" : undef;
}

# What exiftool's reading says photofactory should have found.
sub expected_date {
    my ($e, $kind) = @_;
    my $local = sub { my ($d, $tag, $off) = @_;
        return { how => 'local', wall => $d->[0], frac => fraction($d->[1]), offset => $d->[2] // $off, tag => $tag } };
    if ($kind eq 'video') {
        if (my $d = valid_date($e->{'Keys:CreationDate'})) { return $local->($d, 'Keys:CreationDate') }
        for my $k ('UserData:ContentCreateDate', 'ItemList:ContentCreateDate', 'UserData:DateTimeOriginal') {
            my $d = valid_date($e->{$k}) or next;
            next unless defined $d->[2] && $d->[2] != 0;
            return $local->($d, $k);
        }
        # The camera's own clock in AVI and AVCHD files.
        for my $k (['RIFF:DateTimeOriginal'], ['ExifIFD:DateTimeOriginal', 'ExifIFD:OffsetTimeOriginal'],
                   ['H264:DateTimeOriginal'], ['RIFF:DateCreated']) {
            my $d = valid_date($e->{ $k->[0] }) or next;
            return $local->($d, $k->[0], $k->[1] ? offset_minutes($e->{ $k->[1] }) : undef);
        }
        for my $k ('QuickTime:CreateDate', 'Matroska:DateTimeOriginal', 'ASF:CreationDate') {
            my $d = valid_date($e->{$k}) or next;
            return { how => 'utc', epoch => epoch_of($d->[0]) - 60 * ($d->[2] // 0), tag => $k };
        }
        return { how => 'none' };
    }
    # Every candidate in the order of the chain: creation dates, then ModifyDate.
    my @cands;
    for my $c (['ExifIFD:DateTimeOriginal', 'ExifIFD:OffsetTimeOriginal', 'ExifIFD:SubSecTimeOriginal'],
               ['ExifIFD:CreateDate', 'ExifIFD:OffsetTimeDigitized', 'ExifIFD:SubSecTimeDigitized'],
               ['XMP-exif:DateTimeOriginal'], ['XMP-photoshop:DateCreated'], ['XMP-xmp:CreateDate'],
               ['IPTC:DateCreated'],
               ['IFD0:ModifyDate', 'ExifIFD:OffsetTime', 'ExifIFD:SubSecTime'],
               ['PNG:CreationTime'], ['PNG:CreateDate']) {    # PNG text chunks: not read by photofactory
        my $v = $e->{ $c->[0] };
        if (my $d = valid_date($v)) {
            my $x = $local->($d, $c->[0], $c->[1] ? offset_minutes($e->{ $c->[1] }) : undef);
            $x->{frac} = fraction($e->{ $c->[2] }) if $x->{frac} eq '' && $c->[2];
            $x->{has_time} = 1;
            push @cands, $x;
        } elsif (my $day = valid_day($v)) {
            push @cands, { how => 'local', wall => "$day 00:00:00", frac => '', offset => undef, tag => $c->[0] };
        }
    }
    return { how => 'none' } unless @cands;
    my $best = $cands[0];
    return $best if $best->{has_time};
    # A date without a time of day: IPTC TimeCreated, else a later candidate's time on the same day.
    my $day = substr($best->{wall}, 0, 10);
    if (my ($h, $m, $sec, $zone) = ($e->{'IPTC:TimeCreated'} // '') =~ /^(\d\d):(\d\d):(\d\d)(Z|[+-]\d\d:?\d\d)?/) {
        return { %$best, wall => "$day $h:$m:$sec", offset => offset_minutes($zone), tag => "$best->{tag}+IPTC:TimeCreated" };
    }
    for my $c (@cands[1 .. $#cands]) {
        next unless $c->{has_time} && substr($c->{wall}, 0, 10) eq $day;
        return { %$c, tag => "$best->{tag}+$c->{tag}" };
    }
    return $best;
}

sub expected_gps {
    my ($e) = @_;
    my ($lat, $lon);
    # 3GPP loci: exiftool prints 5 decimals (and derives its Composite GPS from that print).
    if (!defined $e->{'GPS:GPSLatitude'} && !defined $e->{'XMP-exif:GPSLatitude'} &&
        ($e->{'UserData:LocationInformation'} // '') =~ /Lat=(-?[\d.]+) Lon=(-?[\d.]+)/) {
        return [$1, $2, 'printed'];
    }
    if (defined $e->{'Composite:GPSLatitude'} && defined $e->{'Composite:GPSLongitude'}) {
        ($lat, $lon) = ($e->{'Composite:GPSLatitude'}, $e->{'Composite:GPSLongitude'});
    } elsif (defined $e->{'XMP-exif:GPSLatitude'} && defined $e->{'XMP-exif:GPSLongitude'}) {
        ($lat, $lon) = ($e->{'XMP-exif:GPSLatitude'}, $e->{'XMP-exif:GPSLongitude'});
    } elsif (defined $e->{'GPS:GPSLatitude'} && defined $e->{'GPS:GPSLongitude'}) {
        ($lat, $lon) = ($e->{'GPS:GPSLatitude'}, $e->{'GPS:GPSLongitude'});
        $lat = -$lat if ($e->{'GPS:GPSLatitudeRef'} // 'N') eq 'S';
        $lon = -$lon if ($e->{'GPS:GPSLongitudeRef'} // 'E') eq 'W';
    } elsif (my $c = first_of($e, 'UserData:GPSCoordinates', 'Keys:GPSCoordinates', 'ItemList:GPSCoordinates')) {
        ($lat, $lon) = split ' ', $c;
    }
    return undef unless defined $lat && defined $lon;
    return [$lat + 0, $lon + 0];
}

my ($files, $agree, $date_ok, $gps_ok, @problems, @explained, @unexplained) = (0, 0, 0, 0);
my (%per_format, %used);    # format => {files, date, gps}; known entries seen
my $not_media = 0;
for my $name (sort keys %pf) {
    my $p = $pf{$name};
    my $base = basename($name);
    my $fmt = $p->{media_format} // (($base =~ /\.([^.]+)$/ ? lc $1 : '?') . ' (not read)');
    # Real folders hold other files too: not media for both readers is agreement, not a format.
    if (($p->{rejected} // '') eq 'not_media' && ($et{$name}{'File:MIMEType'} // '') !~ m{^(image|video)/}) {
        $not_media++;
        next;
    }
    $files++;
    $per_format{$fmt}{files}++;
    my @diff;    # [aspect, text]
    if ($p->{error} || $p->{rejected}) {
        push @diff, ['read', 'pf-inspect: ' . ($p->{error} // "rejected $p->{rejected}: $p->{detail}")];
    } else {
        my $e = $et{$name} // {};
        my $x = expected_date($e, $p->{media_kind});
        my ($wall, $frac) = ($p->{captured_at} =~ /^(\S+ \d\d:\d\d:\d\d)(\.\d+)?$/);
        $frac //= '';
        my $src = $p->{date_source};
        my $d_ok;
        if ($x->{how} eq 'local') {
            $d_ok = $wall eq $x->{wall} && $frac eq $x->{frac} && $src !~ /^(filename|mtime|video_utc)$/ &&
              ((defined $x->{offset}) ? (defined $p->{utc_offset_minutes} && $p->{utc_offset_minutes} == $x->{offset})
                                      : !defined $p->{utc_offset_minutes});
            push @diff, ['date', sprintf('pf %s%s (%s, offset %s) vs exiftool %s %s%s (offset %s)', $wall, $frac, $src,
                                         $p->{utc_offset_minutes} // 'none', $x->{tag}, $x->{wall}, $x->{frac},
                                         $x->{offset} // 'none')] unless $d_ok;
        } elsif ($x->{how} eq 'utc') {
            $d_ok = $src eq 'video_utc' && defined $p->{utc_epoch} && $p->{utc_epoch} == $x->{epoch};
            push @diff, ['date', sprintf('pf utc_epoch %s (%s) vs exiftool %s = %s', $p->{utc_epoch} // 'none', $src,
                                         $x->{tag}, $x->{epoch})] unless $d_ok;
        } else {
            $d_ok = $src eq 'filename' || $src eq 'mtime';
            push @diff, ['date', "pf $src $wall vs exiftool: no date"] unless $d_ok;
        }
        $date_ok++ if $d_ok;
        $per_format{$fmt}{date}++ if $d_ok;

        my $g = expected_gps($e);
        my $l = $p->{location};
        my $g_ok = (!$g && !$l) ||
          ($g && $l && ($g->[2] ? abs($g->[0] - $l->{lat}) <= 5.01e-6 && abs($g->[1] - $l->{lon}) <= 5.01e-6
                                : abs($g->[0] - $l->{lat}) < 1e-6 && abs($g->[1] - $l->{lon}) < 1e-6));
        $gps_ok++ if $g_ok;
        $per_format{$fmt}{gps}++ if $g_ok;
        push @diff, ['gps', sprintf('pf %s vs exiftool %s', $l ? "$l->{lat},$l->{lon}" : 'none',
                                    $g ? "$g->[0],$g->[1]" : 'none')] unless $g_ok;

        # Rules exiftool cannot judge.
        my $motion = ($e->{'XMP-GCamera:MotionPhoto'} // 0) == 1 || ($e->{'XMP-GCamera:MicroVideo'} // 0) == 1 ||
                     $base =~ /^motion-/;
        push @diff, ['motion_photo', 'pf motion_photo=' . ($p->{motion_photo} ? 'true' : 'false') .
                                     ' expected ' . ($motion ? 'true' : 'false')]
          if ($p->{motion_photo} ? 1 : 0) != ($motion ? 1 : 0);
        for my $prefix (keys %zone_of) {
            next unless index($base, "$prefix.") == 0;
            push @diff, ['zone', "pf time_zone " . ($p->{time_zone} // 'null') . " expected $zone_of{$prefix}"]
              if ($p->{time_zone} // '') ne $zone_of{$prefix};
        }
    }
    if (!@diff) { $agree++; next; }
    for my $d (@diff) {
        my $reason = $known{"$base\t$d->[0]"};
        $used{"$base\t$d->[0]"} = 1 if defined $reason;
        if (defined $reason) { push @explained, "$name: $d->[0]: $d->[1] -- explained: $reason"; }
        else { push @unexplained, "$name: $d->[0]: $d->[1]"; }
    }
}

my $missing = grep { !exists $pf{$_} } keys %et;
my $pct = $files ? 100.0 * $agree / $files : 0;
printf "compare: %d files; dates agree on %d, GPS on %d; fully agree on %d (%.1f %%)\n",
  $files, $date_ok, $gps_ok, $agree, $pct;
print "compare: $not_media files are not media for either reader (skipped)\n" if $not_media;
printf "  %-22s %6s %14s %14s\n", 'format', 'files', 'date agrees', 'GPS agrees';
for my $fmt (sort keys %per_format) {
    my $f = $per_format{$fmt};
    printf "  %-22s %6d %7d %5.1f%% %7d %5.1f%%\n", $fmt, $f->{files}, $f->{date} // 0, 100 * ($f->{date} // 0) / $f->{files},
      $f->{gps} // 0, 100 * ($f->{gps} // 0) / $f->{files};
}
print "explained disagreement: $_\n" for @explained;
print "UNEXPLAINED disagreement: $_\n" for @unexplained;
if ($real) {
    # Real files: the targets of issue #11, whatever the known list says.
    my $date_pct = $files ? 100.0 * $date_ok / $files : 0;
    my $fail = ($files == 0 || $date_pct < 99.0 ? 1 : 0) + ($gps_ok == $files ? 0 : 1);
    printf "compare-real: date agreement %.1f %% (target 99 %%), GPS agreement %d of %d (target all)\n",
      $date_pct, $gps_ok, $files;
    print "compare-real: targets ", ($fail ? "NOT met" : "met"), "\n";
    exit($fail ? 1 : 0);
}
my @unused = grep { !$used{$_} } sort keys %known;
print "note: known disagreement not seen: $_\n" for map { s/\t/ /r } @unused;
my $failed = scalar(@unexplained);
if ($files == 0 || $pct < 99.0) {
    printf "compare: agreement %.1f %% is below 99 %%\n", $pct;
    $failed++;
}
if ($missing) { print "compare: $missing files read by exiftool are missing from pf-inspect's output\n"; $failed++; }
# Files, not aspects: a file with any unexplained disagreement fails.
my %bad = map { (split /: /, $_)[0] => 1 } @unexplained;
my $passed = $files - scalar(keys %bad);
printf "formats: %d passed, %d failed\n", $passed, $failed;
exit($failed ? 1 : 0);
