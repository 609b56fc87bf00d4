#!/usr/bin/perl
# Helper of the ledger phase of bench/run.sh.
#   ledger-queries.pl split QUERIES.sql OUTDIR RUNS
#       writes, for every query block, OUTDIR/NN-name.time.sql (RUNS x
#       BEGIN; EXPLAIN (ANALYZE, BUFFERS) ...; ROLLBACK) and OUTDIR/NN-name.nested.sql
#       (the statement once under auto_explain at NOTICE level, to show the plans
#       of the statements inside functions); lists the .time.sql files in OUTDIR/list.
#   ledger-queries.pl parse NN-name.time.sql PSQL_OUTPUT
#       prints one JSON line: execution times of every run, first, median of the rest.
use strict;
use warnings;
use JSON::PP;

my $mode = shift // '';
if ($mode eq 'split') {
    my ($file, $dir, $runs) = @ARGV;
    open my $fh, '<', $file or die "$file: $!\n";
    my (@q, $cur);
    while (my $line = <$fh>) {
        chomp $line;
        if ($line =~ /^-- name:\s*(\S+)/) { $cur = { name => $1, kind => 'other', setup => [], sql => '' }; push @q, $cur; next; }
        next unless $cur;
        if ($line =~ /^-- kind:\s*(\S+)/) { $cur->{kind} = $1; next; }
        if ($line =~ /^-- setup:\s*(.*)$/) { push @{ $cur->{setup} }, $1; next; }
        next if $line =~ /^--/ || $line =~ /^\s*$/;
        $cur->{sql} .= "$line\n";
    }
    open my $list, '>', "$dir/list" or die "$dir/list: $!\n";
    my $n = 0;
    for my $q (@q) {
        (my $sql = $q->{sql}) =~ s/;?\s*\z//;
        my $base = sprintf('%s/%02d-%s', $dir, ++$n, $q->{name});
        my $head = "-- kind: $q->{kind}\n\\pset pager off\n" . join('', map { "$_\n" } @{ $q->{setup} });
        open my $t, '>', "$base.time.sql" or die "$base: $!\n";
        print $t $head;
        print $t "\\echo ==== run $_\nBEGIN;\nEXPLAIN (ANALYZE, BUFFERS) $sql;\nROLLBACK;\n" for 1 .. $runs;
        close $t;
        open my $x, '>', "$base.nested.sql" or die "$base: $!\n";
        print $x $head, "LOAD 'auto_explain';\nSET auto_explain.log_min_duration = 0;\n",
            "SET auto_explain.log_analyze = on;\nSET auto_explain.log_buffers = on;\n",
            "SET auto_explain.log_nested_statements = on;\nSET auto_explain.log_level = notice;\n",
            "BEGIN;\n$sql;\nROLLBACK;\n";
        close $x;
        chmod 0644, "$base.time.sql", "$base.nested.sql";
        print $list "$base.time.sql\n";
    }
    exit 0;
}
if ($mode eq 'parse') {
    my ($script, $outfile, $busy) = @ARGV;
    my ($name) = $script =~ m{/\d+-([^/]+)\.time\.sql$};
    my $kind = 'other';
    open my $s, '<', $script or die "$script: $!\n";
    while (<$s>) { $kind = $1 if /^-- kind: (\S+)/; }
    open my $o, '<', $outfile or die "$outfile: $!\n";
    my (@exec, @plan, @rows);
    my $error;
    while (<$o>) {
        push @exec, $1 + 0 if /Execution Time: ([\d.]+) ms/;
        push @plan, $1 + 0 if /Planning Time: ([\d.]+) ms/;
        $error //= $1 if /ERROR:\s+(.*)/;
    }
    my %r = (section => 'query', name => $name, kind => $kind, runs_ms => \@exec, planning_ms => \@plan);
    $r{error} = $error if defined $error;
    $r{machine_busy} = $busy + 0 if defined $busy && length $busy;
    if (@exec) {
        $r{first_ms} = $exec[0];
        my @rest = sort { $a <=> $b } (@exec > 1 ? @exec[1 .. $#exec] : @exec);
        $r{median_ms} = $rest[int(@rest / 2)];
        $r{max_ms} = $rest[-1];
    }
    print JSON::PP->new->canonical->encode(\%r), "\n";
    exit 0;
}
die "usage: $0 split QUERIES OUTDIR RUNS | parse SCRIPT OUTPUT\n";
