#!/usr/bin/perl
# Hostile HTTP against the dashboard, on loopback only, bounded in count and
# time. usage: http-abuse.pl PORT MODE
#   malformed  - garbage request lines; prints the status line of each answer
#   huge       - a 256 kB header; prints the status line (or "closed")
#   slowloris  - 50 connections sending one header byte per second for 12 s,
#                while timing a normal request every 2 s; prints the slowest (ms)
#   flood      - 1000 connections opened at once and held for 3 s; prints how
#                many connected
use strict;
use warnings;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';   # the server may close first: that is an answer too

my ($port, $mode) = @ARGV;
die "usage: $0 PORT MODE\n" unless $port && $mode;

sub conn { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp', Timeout => 5) }

sub status_of {
    my ($req) = @_;
    my $s = conn() or return 'noconnect';
    $s->autoflush(1);
    print $s $req;
    my $line;
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 15;   # past the server's 10 s idle limit
        $line = <$s>;
        alarm 0;
    };
    close $s;
    return 'timeout' if $@;
    return 'closed' unless defined $line;
    $line =~ s/\r?\n$//;
    return $line;
}

sub normal_ms {
    my $t0 = time;
    my $st = status_of("GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    return ($st, int((time - $t0) * 1000));
}

if ($mode eq 'malformed') {
    for my $req ("GARBAGE\r\n\r\n", "GET\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET /asset/%00 HTTP/1.1\r\nHost: x\r\n\r\n",
                 "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03") {
        print status_of($req), "\n";
    }
} elsif ($mode eq 'huge') {
    print status_of("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " . ('a' x 262144) . "\r\n\r\n"), "\n";
} elsif ($mode eq 'slowloris') {
    my @slow = grep { defined } map { conn() } 1 .. 50;
    $_->autoflush(1) for @slow;
    print $_ "GET / HTTP/1.1\r\n" for @slow;
    my $worst = 0;
    my $end = time + 12;
    my $bad = 0;
    while (time < $end) {
        for my $s (@slow) { print $s "X" }   # one byte per second each, never finishing the headers
        my ($st, $ms) = normal_ms();
        $bad++ unless $st =~ m{^HTTP/1\.[01] 200};
        $worst = $ms if $ms > $worst;
        sleep 1;
    }
    close $_ for @slow;
    print "worst_ms=$worst failed=$bad\n";
} elsif ($mode eq 'flood') {
    my @socks;
    for (1 .. 1000) { my $s = conn(); push @socks, $s if $s }
    print "connected=", scalar(@socks), "\n";
    sleep 3;
    close $_ for @socks;
} else {
    die "unknown mode $mode\n";
}
