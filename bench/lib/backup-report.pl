# The backup phase's part of report.pl (bench/lib/backup.sh): required by it.
#   my %bk = backup_summary(\@raw);  backup_targets(\%bk, \&target);  backup_table(\%bk);
use strict;
use warnings;
use List::Util qw(min max);

sub backup_pct {
    my ($p, @v) = @_;
    my @s = sort { $a <=> $b } @v;
    return $s[ min($#s, int($p * @s + 0.999999) - 1) ];
}

sub backup_summary {
    my ($raw) = @_;
    my %b;
    for my $r (grep { $_->{section} eq 'backup_baseline' } @$raw) {
        $b{files} = $r->{files};
        $b{bytes} = $r->{bytes};
        $b{baselines}{ $r->{tool} } = { s => 0 + sprintf('%.3f', $r->{t_end} - $r->{t_start}),
                                        (defined $r->{machine_busy} ? (machine_busy => $r->{machine_busy}) : ()) };
    }
    if (my ($c) = grep { $_->{section} eq 'backup_copy' } @$raw) {
        $b{files} //= $c->{files};
        $b{bytes} //= $c->{bytes};
        $b{copy} = { s => 0 + sprintf('%.3f', $c->{t_end} - $c->{t_start}), from_add_s => 0 + sprintf('%.3f', $c->{t_end} - $c->{t_add}),
                     left => $c->{left}, copies => $c->{copies}, machine_busy => $c->{machine_busy} }
            if $c->{t_start} > 0;
    }
    if (my ($s) = grep { $_->{section} eq 'backup_scrub' } @$raw) {
        $b{scrub} = { s => 0 + sprintf('%.3f', $s->{t_end} - $s->{t_start}), passes => $s->{passes} } if $s->{t_start} > 0;
    }
    my $bs = $b{baselines} || {};
    my $mbs = sub { my $s = shift; return defined $s && $s > 0 ? 0 + sprintf('%.1f', $b{bytes} / 1e6 / $s) : undef };
    $_->{mb_s} = $mbs->($_->{s}) for values %$bs;
    if (my $c = $b{copy}) {
        $c->{mb_s} = $mbs->($c->{s});
        $b{vs_cp_sync} = 0 + sprintf('%.2f', $bs->{cp_sync}{s} / $c->{s}) if $bs->{cp_sync} && $c->{s} > 0;
        $b{vs_rsync_sha256sum} = 0 + sprintf('%.2f', $bs->{rsync_sha256sum}{s} / $c->{s}) if $bs->{rsync_sha256sum} && $c->{s} > 0;
        # cp -a + sync + an O_DIRECT re-read: the protocol's floor when nothing overlaps.
        $b{floor_vs_cp_sync} = 0 + sprintf('%.2f', $bs->{cp_sync}{s} / ($bs->{cp_sync}{s} + $bs->{direct_reread}{s}))
            if $bs->{cp_sync} && $bs->{direct_reread};
        # The same bytes written and read back at once: the floor with every overlap.
        $b{overlap_vs_cp_sync} = 0 + sprintf('%.2f', $bs->{cp_sync}{s} / $bs->{write_read_overlap}{s})
            if $bs->{cp_sync} && $bs->{write_read_overlap} && $bs->{write_read_overlap}{s} > 0;
    }
    if (my $s = $b{scrub}) {
        $s->{mb_s} = $mbs->($s->{s});
        $b{scrub_vs_openssl} = 0 + sprintf('%.2f', $bs->{openssl_uncached}{s} / $s->{s}) if $bs->{openssl_uncached} && $s->{s} > 0;
    }
    for my $mode (qw(idle backup)) {
        my @l = grep { $_->{section} eq 'backup_latency' && $_->{mode} eq $mode } @$raw or next;
        my @ms = map { 1000 * ($_->{t_seen} - (max($_->{mtime}, $_->{ctime}) + $_->{settle_s})) } @l;
        my ($polls, $busy) = (0, 0);
        $polls += $_->{polls} // 0 for @l;
        $busy += $_->{copying_polls} // 0 for @l;
        $b{latency}{$mode} = { files => scalar @ms, samples_ms => [ map { 0 + sprintf('%.1f', $_) } @ms ],
                               p50_ms => 0 + sprintf('%.1f', backup_pct(0.5, @ms)), p95_ms => 0 + sprintf('%.1f', backup_pct(0.95, @ms)),
                               copying_share => $polls ? 0 + sprintf('%.2f', $busy / $polls) : 0 };
    }
    return %b;
}

sub backup_targets {
    my ($b, $target) = @_;
    my $v = $b->{vs_cp_sync};
    $target->('backup_vs_cp', 'backup: verified durable copy >= 0.8x cp -a + sync (same files, same disk)', $v,
              defined $v ? sprintf('%.2fx (floor: cp + sync + O_DIRECT re-read = %.2fx; written and read at once = %.2fx)', $v,
                                   $b->{floor_vs_cp_sync} // 0, $b->{overlap_vs_cp_sync} // 0) : '-',
              defined $v && $v >= 0.8);
    $v = $b->{vs_rsync_sha256sum};
    $target->('backup_vs_rsync', 'backup: >= 1.5x rsync -a + sha256sum of the copies', $v, defined $v ? sprintf('%.2fx', $v) : '-',
              defined $v && $v >= 1.5);
    $v = $b->{scrub_vs_openssl};
    $target->('backup_scrub', 'backup scrub: >= 85 % of openssl dgst -sha256 of the uncached copies', $v,
              defined $v ? sprintf('%.0f %%', 100 * $v) : '-', defined $v && $v >= 0.85);
    my $L = $b->{latency} || {};
    $v = $L->{idle} && $L->{backup} ? $L->{backup}{p95_ms} - $L->{idle}{p95_ms} : undef;
    $target->('backup_latency', 'backup: ingest latency p95 unchanged within noise while a backup runs', $v,
              defined $v ? sprintf('p95 %.0f -> %.0f ms, p50 %.0f -> %.0f ms (worker copying in %.0f %% of the polls)',
                                   $L->{idle}{p95_ms}, $L->{backup}{p95_ms}, $L->{idle}{p50_ms}, $L->{backup}{p50_ms},
                                   100 * $L->{backup}{copying_share}) : '-',
              defined $v && $v <= 100);
}

sub backup_table {
    my ($b) = @_;
    return unless %$b;
    printf "Backup: %s files, %.0f MB, from page-cached originals to a folder on the same disk:\n", $b->{files} // '?', ($b->{bytes} // 0) / 1e6;
    my $bs = $b->{baselines} || {};
    my @rows = (['cp -a + sync', $bs->{cp_sync}], ['rsync -a + sha256sum', $bs->{rsync_sha256sum}],
                ['O_DIRECT re-read of cp', $bs->{direct_reread}], ['write + re-read at once', $bs->{write_read_overlap}],
                ['backup service (verified)', $b->{copy}],
                ['openssl dgst (uncached)', $bs->{openssl_uncached}], ['scrub (uncached)', $b->{scrub}]);
    for my $r (@rows) {
        next unless $r->[1];
        printf "  %-28s %8.2f s %8.0f MB/s\n", $r->[0], $r->[1]{s}, $r->[1]{mb_s} // 0;
    }
    printf "  ratios: backup/cp+sync %s, backup/rsync+sha256sum %s, scrub/openssl %s; floor (cp+sync+re-read)/cp+sync %s,"
        . " (write + re-read at once)/cp+sync %s\n",
        map { $_ // '-' } $b->{vs_cp_sync}, $b->{vs_rsync_sha256sum}, $b->{scrub_vs_openssl}, $b->{floor_vs_cp_sync},
        $b->{overlap_vs_cp_sync};
    for my $m (qw(idle backup)) {
        my $l = $b->{latency}{$m} or next;
        printf "  ingest latency, backup %-6s %d files: p50 %.0f ms, p95 %.0f ms (worker copying in %.0f %% of the polls)\n",
            $m, $l->{files}, $l->{p50_ms}, $l->{p95_ms}, 100 * $l->{copying_share};
    }
    print "\n";
}

1;
