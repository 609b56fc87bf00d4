#!/usr/bin/perl
# Checks that a results file of bench/run.sh holds every measurement: each
# corpus with its baselines and complete photofactory runs, the latency
# samples, the ledger query timings, and no failure. It never judges a timing
# (the targets are annotations in the report, not test results).
#   check-results.pl RESULTS.json
use strict;
use warnings;
use JSON::PP;

my $file = shift or die "usage: $0 RESULTS.json\n";
open my $fh, '<', $file or die "$file: $!\n";
my $r = decode_json(do { local $/; <$fh> });
my @problems;
my $workers = $r->{meta}{settings}{PF_BENCH_WORKERS} // '1 2';
for my $k (qw(photos small large)) {
    my $c = $r->{corpora}{$k} or do { push @problems, "corpus $k: no results"; next };
    push @problems, "corpus $k: no openssl baseline" unless $c->{openssl} && $c->{openssl}{mb_s};
    push @problems, "corpus $k: no exiftool pipeline baseline"
        unless $c->{exiftool} && defined $c->{exiftool}{total_s} && $c->{exiftool}{moved} == $c->{files};
    for my $w (split ' ', $workers) {
        my $p = $c->{photofactory}{$w};
        if (!$p) { push @problems, "corpus $k: no run with $w librarian(s)"; next }
        push @problems, "corpus $k, $w librarian(s): $p->{rows} of $c->{files} rows" unless $p->{complete};
        push @problems, "corpus $k, $w librarian(s): no memory sample" unless $p->{peak_rss_anon_mb} > 0;
        push @problems, "corpus $k, $w librarian(s): $p->{rejected} rejected, $p->{duplicates} duplicates"
            if $p->{rejected} || $p->{duplicates};
    }
}
my $files = $r->{meta}{settings}{PF_BENCH_LATENCY_FILES};
push @problems, 'latency: no samples' unless $r->{latency}{samples_ms} && @{ $r->{latency}{samples_ms} };
push @problems, "latency: $r->{latency}{files} samples, expected $files"
    if $files && $r->{latency}{files} && $r->{latency}{files} != $files;
my $q = $r->{ledger}{queries} || [];
push @problems, 'ledger: no query timings' unless @$q;
push @problems, "ledger: $_->{name}: " . ($_->{error} // 'no execution time') for grep { $_->{error} || !defined $_->{median_ms} } @$q;
my $g = $r->{geocoder} || {};
push @problems, 'geocoder: no worker throughput' unless $g->{worker_assets_s};
push @problems, 'geocoder: no first-pass throughput' unless $g->{first_assets_s};
push @problems, 'geocoder: no earth_distance lookups' unless $g->{immich_lookups};
push @problems, "geocoder: $g->{named} of $g->{queued} assets named" if $g->{queued} && $g->{named} != $g->{queued};
my $d = $r->{dashboard} || {};
my %route = map { $_->{route} => $_ } @{ $d->{routes} || [] };
for my $name (qw(health factory recent_first recent_deep photo curation api_status metrics thumbnail preview)) {
    my $x = $route{$name} or do { push @problems, "dashboard: no timings of $name"; next };
    push @problems, "dashboard: $name answered $x->{codes}" unless $x->{codes} eq '200';
    push @problems, "dashboard: $name: $x->{timed} of $x->{requests} responses had Server-Timing"
        unless $x->{requests} > 0 && $x->{timed} == $x->{requests};
}
push @problems, "dashboard: $d->{curated} of $d->{curation_requests} assets curated"
    unless $d->{curation_requests} && $d->{curated} == $d->{curation_requests};
push @problems, 'dashboard: no refresh timings' unless $d->{refresh_slow} && $d->{refresh_slow}{runs};
my $b = $r->{backup} || {};
push @problems, "backup: no $_ baseline" for grep { !($b->{baselines}{$_} && $b->{baselines}{$_}{s}) } qw(cp_sync rsync_sha256sum direct_reread write_read_overlap openssl_uncached);
push @problems, 'backup: no verified copy timing' unless $b->{copy} && $b->{copy}{s} && $b->{copy}{copies} == $b->{files};
push @problems, 'backup: no scrub timing' unless $b->{scrub} && $b->{scrub}{s};
push @problems, "backup: no ingest latency samples ($_)" for grep { !($b->{latency}{$_} && $b->{latency}{$_}{files}) } qw(idle backup);
my $th = $r->{thumbnails}{kinds} || {};
for my $k (qw(jpeg heic video big)) {
    push @problems, "thumbnails: $k: no worker throughput" unless $th->{$k} && $th->{$k}{worker} && $th->{$k}{worker}{per_core_files_s};
}
push @problems, "thumbnails: $_: no vipsthumbnail baseline" for grep { !($th->{$_} && $th->{$_}{vips} && $th->{$_}{vips}{per_core_files_s}) } qw(jpeg heic);
push @problems, 'thumbnails: jpeg: no convert baseline' unless $th->{jpeg} && $th->{jpeg}{convert} && $th->{jpeg}{convert}{per_core_files_s};
push @problems, 'thumbnails: no peak RSS' unless $r->{thumbnails}{peak_vm_hwm_mb};
push @problems, 'dashboard: no refresh step timings' unless $d->{refresh_slow} && defined $d->{refresh_slow}{step_max_ms};
push @problems, 'dashboard: no prober requests during the refreshes' unless $d->{probe} && $d->{probe}{requests};
push @problems, "failure: $_" for @{ $r->{failures} || [] };
if (@problems) { print "not ok - $_\n" for @problems; exit 1; }
printf "ok - %s: 3 corpora x %s librarian settings, %d latency samples, %d ledger queries, %d dashboard routes\n",
    $file, scalar(split ' ', $workers), scalar @{ $r->{latency}{samples_ms} }, scalar @$q, scalar keys %route;
exit 0;
