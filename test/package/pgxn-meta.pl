#!/usr/bin/perl
# Validates META.json against the PGXN Meta Spec 1.0.0
# (https://pgxn.org/meta/spec.txt): required keys, the type and format of
# every key the spec defines, custom keys only as x_*/X_*; and that it agrees
# with the release: version == photofactory.control's default_version == the
# upstream part of debian/changelog's version, provided files exist.
# No Debian package ships PGXN::Meta::Validator, hence this check.
# usage: perl test/package/pgxn-meta.pl META.json
use strict;
use warnings;
use JSON::PP;
use File::Basename qw(dirname);

my $path = shift // 'META.json';
my $root = dirname($path);
my @errors;
sub err { push @errors, join '', @_ }

open my $fh, '<:raw', $path or die "cannot read $path: $!\n";
my $meta = eval { JSON::PP->new->utf8->decode(do { local $/; <$fh> }) };
die "$path is not valid JSON: $@" unless $meta;
ref $meta eq 'HASH' or die "$path: the top level must be an object\n";

my $semver = qr/^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+)?$/;
my $version_range = qr/^(?:0|(?:(?:[<>]=?|[!=]=)\s*)?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+)?)$/;
my %licenses = map { $_ => 1 } qw(agpl_3 apache_1_1 apache_2_0 artistic_1 artistic_2 bsd freebsd gfdl_1_2
  gfdl_1_3 gpl_1 gpl_2 gpl_3 lgpl_2_1 lgpl_3_0 mit mozilla_1_0 mozilla_1_1 openssl perl_5 postgresql
  qpl_1_0 ssleay sun zlib open_source restricted unrestricted unknown);
my %known = map { $_ => 1 } qw(name abstract description version maintainer license provides prereqs
  release_status resources generated_by tags no_index meta-spec);

sub str { my ($v, $what) = @_; defined $v && !ref $v && length $v or err("$what must be a non-empty string") }

for my $k (qw(name abstract maintainer license provides meta-spec version)) {
  exists $meta->{$k} or err("required key \"$k\" is missing");
}
for my $k (sort keys %$meta) {
  $known{$k} or $k =~ /^[xX]_/ or err("unknown key \"$k\" (custom keys must start with x_ or X_)");
}
str($meta->{name}, 'name');
($meta->{name} // '') =~ /^[^\/\\\s]{2,}$/ or err('name must be 2+ characters without slash, backslash or space');
str($meta->{abstract}, 'abstract');
str($meta->{description}, 'description') if exists $meta->{description};
($meta->{version} // '') =~ $semver or err('version must be a semantic version');
my $m = $meta->{maintainer};
if (ref $m eq 'ARRAY') { @$m or err('maintainer must not be empty'); str($_, 'maintainer entry') for @$m }
else { str($m, 'maintainer') }

my $l = $meta->{license};
if (ref $l eq 'HASH') { %$l or err('license must not be empty'); str($l->{$_}, "license URL of $_") for keys %$l }
elsif (ref $l eq 'ARRAY') { @$l or err('license must not be empty'); $licenses{$_ // ''} or err("unknown license \"" . ($_ // '') . "\"") for @$l }
else { $licenses{$l // ''} or err("unknown license \"" . ($l // '') . "\"") }

my $p = $meta->{provides};
if (ref $p eq 'HASH' && %$p) {
  for my $ext (sort keys %$p) {
    my $e = $p->{$ext};
    ref $e eq 'HASH' or (err("provides.$ext must be an object"), next);
    str($e->{file}, "provides.$ext.file");
    ($e->{version} // '') =~ $semver or err("provides.$ext.version must be a semantic version");
    for my $k (sort keys %$e) {
      $k =~ /^(file|version|abstract|docfile)$/ || $k =~ /^[xX]_/ or err("provides.$ext: unknown key \"$k\"");
    }
    for my $f (grep { defined } $e->{file}, $e->{docfile}) { -f "$root/$f" or err("provides.$ext names a missing file: $f") }
  }
} else { err('provides must be a non-empty object') }

my $ms = $meta->{'meta-spec'};
ref $ms eq 'HASH' && ($ms->{version} // '') eq '1.0.0' or err('meta-spec.version must be "1.0.0"');
str($ms->{url}, 'meta-spec.url') if ref $ms eq 'HASH' && exists $ms->{url};

if (exists $meta->{prereqs}) {
  my $pr = $meta->{prereqs};
  ref $pr eq 'HASH' or err('prereqs must be an object');
  for my $phase (sort keys %{ ref $pr eq 'HASH' ? $pr : {} }) {
    $phase =~ /^(configure|build|test|runtime|develop)$/ or err("prereqs: unknown phase \"$phase\"");
    for my $rel (sort keys %{ $pr->{$phase} }) {
      $rel =~ /^(requires|recommends|suggests|conflicts)$/ or err("prereqs.$phase: unknown relationship \"$rel\"");
      while (my ($name, $v) = each %{ $pr->{$phase}{$rel} }) {
        ($v // '') =~ $version_range or err("prereqs.$phase.$rel.$name: \"" . ($v // '') . "\" is not a version or range");
      }
    }
  }
}
if (exists $meta->{release_status}) {
  ($meta->{release_status} // '') =~ /^(stable|testing|unstable)$/ or err('release_status must be stable, testing or unstable');
}
if (exists $meta->{tags}) {
  ref $meta->{tags} eq 'ARRAY' && @{ $meta->{tags} } or err('tags must be a non-empty array');
  for my $t (@{ ref $meta->{tags} eq 'ARRAY' ? $meta->{tags} : [] }) {
    defined $t && !ref $t && length $t && length $t <= 255 or err('each tag must be a string of 1 to 255 characters');
  }
}
if (exists $meta->{resources}) {
  my $r = $meta->{resources};
  for my $k (sort keys %{ ref $r eq 'HASH' ? $r : {} }) {
    $k =~ /^(homepage|bugtracker|repository)$/ || $k =~ /^[xX]_/ or err("resources: unknown key \"$k\"");
  }
}
if (exists $meta->{no_index}) {
  my $n = $meta->{no_index};
  for my $k (sort keys %{ ref $n eq 'HASH' ? $n : {} }) {
    $k =~ /^(file|directory)$/ || $k =~ /^[xX]_/ or err("no_index: unknown key \"$k\"");
  }
}

# The release agrees with itself.
if (open my $c, '<', "$root/photofactory.control") {
  my ($dv) = join('', <$c>) =~ /^default_version\s*=\s*'([^']+)'/m;
  ($dv // '') eq ($meta->{version} // '') or err("version ($meta->{version}) differs from photofactory.control's default_version (" . ($dv // 'none') . ")");
  for my $ext (keys %{ ref $p eq 'HASH' ? $p : {} }) {
    ($p->{$ext}{version} // '') eq ($dv // '') or err("provides.$ext.version differs from default_version");
  }
} else { err('photofactory.control is missing') }
if (open my $ch, '<', "$root/debian/changelog") {
  my ($dv) = <$ch> =~ /^\S+ \(([^)]+)\)/;
  (my $up = $dv // '') =~ s/-[^-]+$//;
  $up eq ($meta->{version} // '') or err("version differs from debian/changelog's upstream version ($up)");
}

if (@errors) { print "not ok - $path: $_\n" for @errors; exit 1 }
print "ok - $path follows the PGXN Meta Spec 1.0.0 and matches the release\n";
exit 0;
