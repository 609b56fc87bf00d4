#!/usr/bin/env bash
# End to end: hostile and broken input. Links (to files outside the inbox, to
# /etc/passwd, loops, a linked folder), FIFOs, sockets, device nodes, files and
# folders the server may not read or move, 255-byte and control-character and
# invalid UTF-8 names, 60 and 70 levels of folders, empty files, JPEGs with
# absurd EXIF, broken MP4 boxes, and a file that keeps changing while it is
# read. Each gets a recorded reason (inbox_events, Rejected/) or a logged skip
# that is not repeated; no worker crashes or restarts; nothing outside the
# inbox moves; Originals gets exactly what it should.
source "$(dirname "$0")/lib/assert.sh"

log=$PF_TEST_RUN/log/server.log
log_from=$(( $(stat -c %s "$log") + 1 ))
new_log() { tail -c +"$log_from" "$log"; }
librarian_pids() {
  sql "SELECT pg_stat_clear_snapshot(); SELECT string_agg(pid::text, ' ' ORDER BY pid) FROM pg_stat_activity WHERE backend_type = 'photofactory librarian'" | tail -1
}
ok "librarians are running" wait_for 20 sql_is \
  "SELECT count(*) = current_setting('photofactory.librarian_workers')::int FROM pg_stat_activity WHERE backend_type = 'photofactory librarian'" t
pids_before=$(librarian_pids)
passwd_before=$(stat -c '%U:%G %a %i %s' /etc/passwd; sha256sum /etc/passwd)
originals_before=$(cd "$storage" && find Originals -type f 2>/dev/null | LC_ALL=C sort)

stage=$(mktemp -d "$PF_TEST_RUN/stage50.XXXXXX")
outside=$(mktemp -d "$PF_TEST_RUN/outside50.XXXXXX")   # never inside the inbox
h=$stage/hostile
mkdir -p "$h"/{links,special,perms,names/a,names/b,zero,exif,mp4}

# One dated photo; every fixture that should be ingested is a copy with a
# unique tail (distinct content, same EXIF date 2005-05-05).
convert -size 24x16 xc:orchid -quality 70 "$stage/plain.jpg"
cp "$stage/plain.jpg" "$stage/dated.jpg"
exiftool -q -overwrite_original -DateTimeOriginal='2005:05:05 05:05:05' "$stage/dated.jpg"
n=0
photo() { n=$((n + 1)); { cat "$stage/dated.jpg"; printf 'hostile-50-%04d' "$n"; } >"$1"; }
photo "$outside/photo.jpg"
cp "$outside/photo.jpg" "$stage/outside-photo.ref"

# ---- links: never followed, moved to Rejected/ as links
ln -s "$outside/photo.jpg" "$h/links/outside.jpg"
ln -s /etc/passwd "$h/links/passwd.jpg"
ln -s loop_b.jpg "$h/links/loop_a.jpg"; ln -s loop_a.jpg "$h/links/loop_b.jpg"
ln -s self.jpg "$h/links/self.jpg"
ln -s /nonexistent/IMG_1.jpg "$h/links/dangling.jpg"
ln -s "../../../$(basename "$outside")/photo.jpg" "$h/links/up.jpg"
ln -s "$outside" "$h/links/dirlink"
ln -s . "$h/links/dirloop"

# ---- special files: never opened
mkfifo "$h/special/pipe.mp4"
perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $ARGV[0], Listen => 1) or die "$!\n"' \
  "$h/special/sock.jpg"
specials="pipe.mp4 sock.jpg"
if mknod "$h/special/null.jpg" c 1 3 2>/dev/null && mknod "$h/special/disk.mp4" b 7 250 2>/dev/null; then
  specials="$specials null.jpg disk.mp4"
else
  echo "# mknod not permitted here: device nodes not tested"
fi

# ---- names
long=$(printf 'L%.0s' $(seq 1 231))                       # 20 + 231 + 4 = 255 bytes
name255="IMG_20050505_050505_$long.jpg"
photo "$h/names/a/$name255"; photo "$h/names/b/$name255"   # same 255-byte name twice: "~1" must still fit
nl_name=$'IMG_\nnew\rline\t.jpg'
photo "$h/names/$nl_name"
bad_name=$'bad\xff\xfeutf8\x01.jpg'
photo "$h/names/$bad_name"
bad255=$(printf '\xff%.0s' $(seq 1 251)).jpg                # 255 bytes that escape to 753
photo "$h/names/$bad255"
utf255=$(printf '\xc3\xa9%.0s' $(seq 1 125)).jpg           # 254 bytes of valid UTF-8
photo "$h/names/$utf255"

# ---- nesting: 60 levels are ingested; 70 exceed the scan's limit of 64 and are skipped (logged once)
deep=$h/deep; for i in $(seq -w 1 60); do deep=$deep/d$i; done
mkdir -p "$deep"; photo "$deep/IMG_deep60.jpg"
deeper=$stage/deeper/too; for i in $(seq -w 1 70); do deeper=$deeper/d$i; done
mkdir -p "$deeper"; photo "$deeper/IMG_deep70.jpg"

# ---- empty files
: >"$h/zero/empty.jpg"; : >"$h/zero/empty.mp4"

# ---- absurd EXIF: JPEGs whose APP1 holds a crafted TIFF structure
perl - "$stage/plain.jpg" "$h/exif" <<'PERL'
use strict; use warnings;
my ($plain, $dir) = @ARGV;
open my $in, '<:raw', $plain or die; local $/; my $jpeg = <$in>; close $in;
my $body = substr($jpeg, 2);                               # everything after SOI
sub entry { pack('vvVV', @_) }                             # tag, type, count, value/offset (little endian)
sub ifd { my ($next, @e) = @_; pack('v', scalar @e) . join('', @e) . pack('V', $next) }
sub app1 { my ($tiff, $len) = @_; $len //= 2 + 6 + length $tiff; "\xFF\xE1" . pack('n', $len) . "Exif\0\0" . $tiff }
my $II = "II*\0";
my %f = (
  huge_count   => $II . pack('V', 8) . pack('v', 0xFFFF) . entry(0x010F, 2, 4, 0x636261),
  past_end     => $II . pack('V', 0x7FFFFFF0),
  self_next    => $II . pack('V', 8) . ifd(8, entry(0x010F, 2, 4, 0x636261)),
  exif_to_ifd0 => $II . pack('V', 8) . ifd(0, entry(0x8769, 4, 1, 8)),
  mutual       => $II . pack('V', 8) . ifd(26, entry(0x010F, 2, 4, 0x636261)) . ifd(8, entry(0x0110, 2, 4, 0x666564)),
  gps_absurd   => $II . pack('V', 8) . ifd(0, entry(0x8825, 4, 1, 26)) . ifd(0, entry(0x0002, 5, 0x0FFFFFFF, 0x7FFFFFFF)),
  huge_value   => $II . pack('V', 8) . ifd(0, entry(0x0132, 2, 0xFFFFFFFF, 26), entry(0x9003, 2, 0x7FFFFFFF, 0xFFFFFFF0)),
  bad_date     => $II . pack('V', 8) . ifd(0, entry(0x0132, 2, 20, 26)) . "9999:99:99 99:99:99\0",
  big_endian_loop => "MM\0*" . pack('N', 8) . pack('n', 1) . pack('nnNN', 0x8769, 4, 1, 8) . pack('N', 8),
);
for my $k (sort keys %f) {
  open my $o, '>:raw', "$dir/IMG_20060606_060606_$k.jpg" or die; print $o "\xFF\xD8" . app1($f{$k}) . $body; close $o;
}
# An APP1 segment that claims to run far past the end of the file.
open my $o, '>:raw', "$dir/IMG_20060606_060606_overlong_app1.jpg" or die;
print $o "\xFF\xD8" . app1($II . pack('V', 8) . ifd(0, entry(0x010F, 2, 4, 0x636261)), 0xFFFF) . substr($body, 0, 40);
close $o;
PERL

# ---- broken MP4 boxes
perl - "$h/mp4" <<'PERL'
use strict; use warnings; no warnings 'portable'; use Time::Local qw(timegm);
my $dir = shift;
sub box { pack('N', 8 + length $_[1]) . $_[0] . $_[1] }
my $mac = timegm(11, 11, 11, 11, 10, 2011) + 2082844800;   # 2011-11-11 11:11:11 UTC
my $mvhd = box('mvhd', "\0\0\0\0" . pack('N4', $mac, $mac, 1000, 5000) . ("\0" x 80));
my $ftyp = box('ftyp', 'isom' . pack('N', 512) . 'isommp41');
my %f = (
  # 64-bit size on mdat, then a readable moov: dated from mvhd.
  'VID_largesize.mp4'      => $ftyp . pack('N', 1) . 'mdat' . pack('Q>', 16 + 10) . ('x' x 10) . box('moov', $mvhd),
  # size 0: the moov runs to the end of the file.
  'VID_size0.mp4'          => $ftyp . pack('N', 0) . 'moov' . $mvhd,
  # 64-bit size of 2^64-1, and one smaller than its own header.
  'VID_20070707_070707_hugebox.mp4'  => $ftyp . pack('N', 1) . 'mdat' . pack('Q>', 0xFFFFFFFFFFFFFFFF) . ('x' x 32),
  'VID_20070707_070707_tinybox.mp4'  => $ftyp . pack('N', 1) . 'mdat' . pack('Q>', 8) . ('x' x 32) . box('moov', $mvhd),
  # moov claims 4 KB, the file ends inside mvhd.
  'VID_20070707_070707_truncmoov.mp4' => $ftyp . pack('N', 4096) . 'moov' . substr($mvhd, 0, 14),
  # cut in the middle of the first box header.
  'VID_20070707_070707_cut.mp4' => substr($ftyp, 0, 10),
  # 120,000 empty boxes before the moov: the walker's per-level limit stops it.
  'VID_20070707_070707_manyboxes.mp4' => $ftyp . (pack('N', 8) . 'free') x 120000 . box('moov', $mvhd),
  # a keys box announcing 2^32-1 keys, an ilst item pointing past them.
  'VID_20070707_070707_keys.mp4' => $ftyp . box('moov', box('meta', box('hdlr', "\0" x 8 . 'mdta' . "\0" x 13)
        . box('keys', pack('N N', 0, 0xFFFFFFFF) . pack('N', 0xFFFFFFF0) . 'mdta')
        . box('ilst', box(pack('N', 0xFFFFFFFF), box('data', pack('N N', 1, 0) . 'x'))))),
);
for my $k (sort keys %f) { open my $o, '>:raw', "$dir/$k" or die; print $o $f{$k}; close $o; }
PERL

# ---- permissions (the cluster runs as postgres; root made these)
photo "$h/perms/locked.jpg"                                        # unreadable file: rejected with the reason
mkdir -p "$h/perms/closed"; photo "$h/perms/closed/IMG_closed.jpg" # unlistable folder: logged once, skipped
mkdir -p "$h/perms/readonly"; photo "$h/perms/readonly/IMG_readonly.jpg"  # readable, not movable: logged once, left

# Reference hashes of every regular fixture.
declare -A sha
while IFS= read -r -d '' f; do sha["${f#"$stage/"}"]=$(sha256sum "$f" | cut -d' ' -f1); done \
  < <(find "$h" -type f -print0)
find "$h" "$stage/deeper" -exec touch -h -d '-1 minute' {} +
pf_own "$h" "$stage/deeper"
chown root: "$h/perms/locked.jpg"; chmod 000 "$h/perms/locked.jpg"
chown root: "$h/perms/closed"; chmod 000 "$h/perms/closed"
chown root: "$h/perms/readonly"; chmod 755 "$h/perms/readonly"
mv "$h" "$inbox/hostile"
mv "$stage/deeper/too" "$inbox/hostile_deep70"
in=$inbox/hostile

# Everything that can be handled is handled; the rest stays, each for a logged reason.
handled() {
  [ -z "$(find "$in" -mindepth 1 ! -type d ! -path "$in/perms/*" -print -quit 2>/dev/null)" ] &&
    [ ! -e "$in/perms/locked.jpg" ]
}
ok "every fixture handled within 60 s" wait_for 60 handled
for _ in 1 2 3 4 5; do sql "SELECT photofactory.ingest_now()" >/dev/null; sleep 1.2; done   # several more scans

nspecial=$(wc -w <<<"$specials")
is "$(sql "SELECT count(*) FROM photofactory.inbox_events WHERE original_path LIKE '$inbox/hostile/%'")" "$((9 + nspecial + 2 + 1 + 6 + 1 + 10 + 8))" \
  "one event per handled fixture (links, special files, empty, unreadable, names, 60 deep, EXIF, MP4)"
is "$(sql "SELECT count(*) - count(DISTINCT original_path) FROM photofactory.inbox_events WHERE original_path LIKE '$inbox/hostile/%'")" "0" \
  "no fixture recorded twice"

event() {  # event RELPATH-IN-LEDGER-FORM COLUMN-EXPRESSION
  sql "SELECT $2 FROM photofactory.inbox_events WHERE original_path = '$inbox/hostile/$1' ORDER BY occurred_at"
}
rejected_for() {  # rejected_for REL REASON-PREFIX
  is "$(event "$1" "outcome || ' ' || (reason LIKE '$2%')")" "rejected true" "$1: rejected ($2)"
}

# Links and special files.
for l in outside.jpg passwd.jpg loop_a.jpg loop_b.jpg self.jpg dangling.jpg up.jpg dirlink dirloop; do
  rejected_for "links/$l" symlink
  ok "links/$l: moved aside as a link" test -L "$(event "links/$l" stored_path)"
done
for s in $specials; do rejected_for "special/$s" not_regular_file; done
ok "the FIFO is in Rejected/ as a FIFO" test -p "$(event special/pipe.mp4 stored_path)"
ok "the socket is in Rejected/ as a socket" test -S "$(event special/sock.jpg stored_path)"
case $specials in *null.jpg*) ok "the device node is in Rejected/ as a device" test -c "$(event special/null.jpg stored_path)";; esac
is "$(stat -c '%U:%G %a %i %s' /etc/passwd; sha256sum /etc/passwd)" "$passwd_before" "/etc/passwd untouched (owner, mode, inode, content)"
ok "the file outside the inbox is still there, unchanged" cmp "$outside/photo.jpg" "$stage/outside-photo.ref"
ok "the linked folder outside the inbox is still a folder" test -d "$outside" -a ! -L "$outside"
ok "no ledger row for anything behind a link" test -z "$(sql "SELECT 1 FROM photofactory.media_assets WHERE file_hash IN ('$(sha256sum /etc/passwd | cut -d' ' -f1)', '$(sha256sum "$outside/photo.jpg" | cut -d' ' -f1)')")"

# Empty files.
rejected_for zero/empty.jpg empty
rejected_for zero/empty.mp4 empty

# Unreadable file: rejected with the reason; it keeps its mode.
rejected_for perms/locked.jpg unreadable
ok "perms/locked.jpg: the reason says permission denied" grep -q 'Permission denied' <<<"$(event perms/locked.jpg reason)"

# Names.
asset() { sql "SELECT $2 FROM photofactory.media_assets WHERE original_path = '$inbox/hostile/$1'"; }
stored_name() { asset "$1" "regexp_replace(final_path, '^.*/', '')"; }
n1=$(stored_name "names/a/$name255"); n2=$(stored_name "names/b/$name255")
is "$(printf '%s\n%s\n' "$n1" "$n2" | LC_ALL=C sort | sed -n 1p)" "$name255" "255-byte name kept as it is"
is "$(printf '%s\n%s\n' "$n1" "$n2" | LC_ALL=C sort | sed -n 2p)" "IMG_20050505_050505_$(printf 'L%.0s' $(seq 1 229))~1.jpg" \
  "255-byte name taken twice: the second is shortened to fit its ~1"
is "$(stored_name 'names/IMG_%0Anew%0Dline%09.jpg')" "IMG_%0Anew%0Dline%09.jpg" "newline, CR and tab escaped in the stored name"
is "$(stored_name 'names/bad%FF%FEutf8%01.jpg')" "bad%FF%FEutf8%01.jpg" "invalid UTF-8 and control bytes escaped"
b255=$(sql "SELECT regexp_replace(final_path, '^.*/', '') FROM photofactory.media_assets WHERE original_path LIKE '$inbox/hostile/names/\%FF\%FF\%FF%'")
is "$(printf "%s" "$b255" | wc -c) ${b255: -4}" "253 .jpg" "251 invalid bytes: escaped, cut to fit 255 bytes at a whole escape, extension kept"
is "$(stored_name "names/$utf255")" "$utf255" "254 bytes of valid UTF-8 kept as they are"
for f in "names/a/$name255" "names/b/$name255" "names/$utf255"; do
  ok "${f:0:30}...: stored content is the inbox file's" test "$(sha256sum "$(asset "$f" final_path)" | cut -d' ' -f1)" = "${sha[hostile/$f]}"
done

# Nesting.
rel60=${deep#"$h/"}/IMG_deep60.jpg
is "$(asset "$rel60" "replace(final_path, '$storage/', '')")" "Originals/2005/2005-05-05/IMG_deep60.jpg" "60 folders deep: ingested"
ok "70 folders deep: skipped, the file stays" test -f "$(find "$inbox/hostile_deep70" -name IMG_deep70.jpg)"
is "$(new_log | grep -c 'skipping part of the inbox: .*folder nesting deeper than 64')" "1" "70 folders deep: logged once"

# Absurd EXIF: photos all the same, dated by their names, recorded once each.
is "$(find "$storage/Originals/2006/2006-06-06/" -name 'IMG_20060606_060606_*' | wc -l)" "10" "10 JPEGs with absurd EXIF ingested"
is "$(sql "SELECT count(*) FROM photofactory.inbox_events WHERE original_path LIKE '$inbox/hostile/exif/%' AND outcome = 'ingested'")" "10" \
  "absurd EXIF: one ingested event each"
is "$(sql "SELECT string_agg(DISTINCT date_source, ',') FROM photofactory.media_assets WHERE original_path LIKE '$inbox/hostile/exif/%'")" "filename" \
  "absurd EXIF: no date read from it; dated by the file name"
ok "absurd EXIF: the unreadable ones say why (has_errors)" test "$(sql "SELECT count(*) FROM photofactory.media_assets WHERE original_path LIKE '$inbox/hostile/exif/%' AND has_errors AND error_message LIKE 'metadata%'")" -ge 1

# Broken MP4 boxes.
is "$(asset mp4/VID_largesize.mp4 "date_source || ' ' || captured_at")" "video_utc 2011-11-11 12:11:11" "64-bit box size: mvhd after it is read"
is "$(asset mp4/VID_size0.mp4 "date_source || ' ' || captured_at")" "video_utc 2011-11-11 12:11:11" "size-0 box (to the end): read"
for k in hugebox tinybox truncmoov cut manyboxes; do
  is "$(asset "mp4/VID_20070707_070707_$k.mp4" "media_kind || ' ' || date_source || ' ' || has_errors")" "video filename true" \
    "broken boxes ($k): ingested, dated by name, has_errors"
done
is "$(asset mp4/VID_20070707_070707_keys.mp4 "media_kind || ' ' || date_source")" "video filename" \
  "absurd keys/ilst counts: ingested, dated by name"
ok "truncated box: the error says so" grep -q 'truncated' <<<"$(asset mp4/VID_20070707_070707_truncmoov.mp4 error_message)"
ok "box smaller than its header: the error says so" grep -q 'invalid size' <<<"$(asset mp4/VID_20070707_070707_tinybox.mp4 error_message)"

# Permission problems: logged once each, not on every scan; the files stay.
ok "unlistable folder: its file stays in the inbox" test -e "$in/perms/closed"
is "$(new_log | grep -c 'skipping part of the inbox: hostile/perms/closed: Permission denied')" "1" "unlistable folder: logged once"
ok "unmovable file: stays in the inbox" test -f "$in/perms/readonly/IMG_readonly.jpg"
ok "unmovable file: logged (it cannot be moved, not even to Rejected/)" wait_for 20 \
  bash -c "tail -c +$log_from '$log' | grep -q 'leaving \"$in/perms/readonly/IMG_readonly.jpg\" in the inbox'"
sql "SELECT photofactory.ingest_now()" >/dev/null; sleep 2
is "$(new_log | grep -c "leaving \"$in/perms/readonly/IMG_readonly.jpg\" in the inbox")" "1" "unmovable file: warned once, not on every scan (absolute path)"
ok "the librarian says so in its status" wait_for 10 sql_is \
  "SELECT status = 'WARNING' AND current_task LIKE '%cannot be%' FROM photofactory.system_status WHERE service_name = 'librarian'" t
ok "inbox_report() lists it as stuck" wait_for 10 sql_is \
  "SELECT state FROM photofactory.inbox_report() WHERE path = 'hostile/perms/readonly/IMG_readonly.jpg'" stuck
ok "ingest_progress counts it as stuck" wait_for 10 sql_is "SELECT stuck >= 1 FROM photofactory.ingest_progress" t

# A file that changes while it is read: ingest_file says "unstable", never a torn copy.
live=$inbox/hostile_live.jpg
{ printf '\xff\xd8\xff\xe0'; head -c 24000000 /dev/zero; } >"$live"; chown postgres: "$live"
touch "$stage/writing"
( while [ -e "$stage/writing" ]; do truncate -c -s 12M "$live"; truncate -c -s 24M "$live"; done ) &
writer=$!
outcomes=""
for _ in 1 2 3 4 5; do outcomes="$outcomes $(sql "SELECT outcome FROM photofactory.ingest_file('$live')")"; done
rm -f "$stage/writing"; wait $writer
echo "# ingest_file while the file kept changing:$outcomes"
ok "shrinking/growing file: ingest_file reports it unstable" grep -q unstable <<<"$outcomes"
ok "shrinking/growing file: never failed nor rejected" test -z "$(tr ' ' '\n' <<<"$outcomes" | grep -vE '^(unstable|ingested|vanished)?$')"
live_sha=$(sha256sum "$live" 2>/dev/null | cut -d' ' -f1)
ok "once it stops changing it is ingested, complete" wait_for 30 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_path = '$live' AND (file_hash = '$live_sha' OR '$live_sha' = '')" 1
p=$(sql "SELECT final_path FROM photofactory.media_assets WHERE original_path = '$live'")
is "$(sha256sum "$p" | cut -d' ' -f1)" "$(sql "SELECT file_hash FROM photofactory.media_assets WHERE original_path = '$live'")" \
  "the stored copy matches its ledger hash"

# Fixing the permissions lets the skipped files in (nothing was lost meanwhile).
chown -R postgres: "$in/perms/closed" "$in/perms/readonly"; chmod 755 "$in/perms/closed"
touch "$in/perms/readonly/IMG_readonly.jpg"   # changed: a fresh start
sql "SELECT photofactory.ingest_now()" >/dev/null
ok "after chmod: the unlistable folder's file is ingested" wait_for 30 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_path = '$in/perms/closed/IMG_closed.jpg'" 1
ok "after chown: the unmovable file is ingested" wait_for 30 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_path = '$in/perms/readonly/IMG_readonly.jpg'" 1
rm -rf "$inbox/hostile_deep70"   # test-owned; the scan limit was the point
ok "status back to OK" wait_for 20 sql_is \
  "SELECT status FROM photofactory.system_status WHERE service_name = 'librarian'" OK

# No worker crashed or restarted; nothing half-done; Originals holds exactly the new photos.
ok "no process died (server log)" test -z "$(new_log | grep -E 'terminated by signal|was terminated|photofactory.*exited with exit code|PANIC|TRAP:|terminate called')"
is "$(librarian_pids)" "$pids_before" "the librarians kept their PIDs"
is "$(sql "SELECT count(*) FROM photofactory.ingest_journal")" "0" "journal empty"
is "$(find "$storage" -name '.pf-incoming-*' | wc -l)" "0" "no temporary copies"
expected_new=$(
  { printf '%s\n' "Originals/2005/2005-05-05/$name255" "Originals/2005/2005-05-05/$n1" "Originals/2005/2005-05-05/$n2" \
      "Originals/2005/2005-05-05/IMG_%0Anew%0Dline%09.jpg" "Originals/2005/2005-05-05/bad%FF%FEutf8%01.jpg" \
      "Originals/2005/2005-05-05/$b255" "Originals/2005/2005-05-05/$utf255" "Originals/2005/2005-05-05/IMG_deep60.jpg" \
      "Originals/2005/2005-05-05/IMG_closed.jpg" "Originals/2005/2005-05-05/IMG_readonly.jpg" \
      "Originals/2011/2011-11-11/VID_largesize.mp4" "Originals/2011/2011-11-11/VID_size0.mp4"
    for k in hugebox tinybox truncmoov cut manyboxes keys; do echo "Originals/2007/2007-07-07/VID_20070707_070707_$k.mp4"; done
    for k in huge_count past_end self_next exif_to_ifd0 mutual gps_absurd huge_value bad_date big_endian_loop overlong_app1; do
      echo "Originals/2006/2006-06-06/IMG_20060606_060606_$k.jpg"; done
    echo "${p#"$storage/"}"
  } | LC_ALL=C sort -u)
actual_new=$(LC_ALL=C comm -13 <(echo "$originals_before") <(cd "$storage" && find Originals -type f | LC_ALL=C sort))
is "$actual_new" "$expected_new" "Originals gained exactly the photos and videos of this test"
bad=$(sql "SELECT final_path || ' ' || file_hash FROM photofactory.media_assets WHERE original_path LIKE '$inbox/hostile%'" |
  while read -r fp fh; do [ "$(sha256sum "$fp" | cut -d' ' -f1)" = "$fh" ] || echo "$fp"; done)
is "$bad" "" "every new row's file exists with its hash"

rm -rf "$stage" "$outside"
pf_summary
