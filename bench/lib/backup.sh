# The backup phase (issue #14), on a cluster of its own with one librarian:
#   1. a corpus of PF_BENCH_BACKUP_FILES random files of PF_BENCH_BACKUP_BYTES
#      laid out in Storage (10 per day folder), ledger rows inserted directly
#      (the librarian is not what is measured);
#   2. baselines over the same page-cached files to the same disk: `cp -a` +
#      `sync`; `rsync -a` + `sha256sum` of the copies; an O_DIRECT re-read of
#      the cp copies (one process, 8 MiB blocks) -- with cp + sync it is the physical
#      floor of a copy verified from storage;
#   3. the backup service's verified, durable copy: from the worker's first
#      "copying" activity to the last asset marked backed up (server-side polls
#      every 5 ms); then its first scrub pass over the copies, against
#      `openssl dgst -sha256` of the same copies with their cached pages
#      dropped (as the scrub does);
#   4. ingest latency, the latency phase's method (one file at a time, settle
#      end -> row visible), twice: with the backup idle, and while the worker
#      copies the corpus to a fresh target (a new target is added whenever the
#      queue runs dry; each sample records how much of its wait the worker spent
#      copying). Sourced by bench/run.sh after bench.sh.

bench_backup_defaults() {
  if [ "$1" = 1 ]; then
    : "${PF_BENCH_BACKUP_FILES:=40}" "${PF_BENCH_BACKUP_BYTES:=2000000}"
  else
    : "${PF_BENCH_BACKUP_FILES:=500}" "${PF_BENCH_BACKUP_BYTES:=4000000}"
  fi
  export PF_BENCH_BACKUP_FILES PF_BENCH_BACKUP_BYTES
}

# Drops the cached pages of the files under DIR (what the scrub and the
# verification read must come from the disk).
bench_drop_cached() {
  find "$1" -type f -print0 | xargs -0 -r python3 -c 'import os, sys
for p in sys.argv[1:]:
    fd = os.open(p, os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)'
}

# Reads every file under DIR with O_DIRECT (one process, 8 MiB blocks).
bench_backup_direct_read() {
  find "$1" -type f -print0 | xargs -0 -r python3 -c 'import mmap, os, sys
buf = mmap.mmap(-1, 8 << 20)   # page-aligned, as O_DIRECT wants
for p in sys.argv[1:]:
    fd = os.open(p, os.O_RDONLY | os.O_DIRECT)
    while os.readv(fd, [buf]) == len(buf): pass
    os.close(fd)'
}

# Server-side wait (polls every 5 ms) for the copy and then the first scrub
# pass of target NAME. Prints "t_first_copying t_copied left t_scrub_start
# t_scrub_done" (epoch seconds): copied = no asset left without a verified copy
# on every target; the scrub pass starts at its scrub_started_at (the start of
# its first batch's transaction) and ends at the first poll that sees its
# scrub_done event.
bench_backup_wait_copied() {
  pf_psql "$CL" -d "$BENCH_DB" -X -q -v ON_ERROR_STOP=1 2>&1 <<SQL | sed -n 's/.*PFBENCH //p'
DO \$\$
DECLARE ts double precision; t0 double precision; t1 double precision; s0 double precision; left_n bigint;
        deadline timestamptz := clock_timestamp() + make_interval(secs => $PF_BENCH_TIMEOUT);
BEGIN
  LOOP
    ts := extract(epoch FROM clock_timestamp());
    PERFORM pg_catalog.pg_stat_clear_snapshot();   -- pg_stat_activity is cached per transaction otherwise
    IF t0 IS NULL AND EXISTS (SELECT FROM pg_catalog.pg_stat_activity WHERE backend_type = 'photofactory backup'
                                 AND query = 'copying to a backup target') THEN t0 := ts; END IF;
    IF t1 IS NULL THEN
      SELECT count(*) INTO left_n FROM photofactory.media_assets WHERE NOT is_backed_up;
      IF left_n = 0 AND t0 IS NOT NULL THEN t1 := ts; END IF;
    END IF;
    IF s0 IS NULL THEN
      SELECT extract(epoch FROM scrub_started_at) INTO s0 FROM photofactory.backup_targets WHERE name = '$1';
    END IF;
    -- A small pass can start and finish in one transaction: its start is then
    -- never visible, but the worker's activity is.
    IF s0 IS NULL AND t1 IS NOT NULL AND EXISTS (SELECT FROM pg_catalog.pg_stat_activity
                                                  WHERE backend_type = 'photofactory backup'
                                                    AND query = 'scrubbing a backup copy') THEN s0 := ts; END IF;
    EXIT WHEN t1 IS NOT NULL AND EXISTS (SELECT FROM photofactory.backup_events WHERE event = 'scrub_done' AND target_name = '$1');
    EXIT WHEN clock_timestamp() > deadline;
    PERFORM pg_sleep(0.005);
  END LOOP;
  -- Neither seen (the whole pass fell between two polls): time it from the
  -- end of the copy, which overstates the scrub's duration, never understates it.
  IF s0 IS NULL AND t1 IS NOT NULL THEN s0 := t1; END IF;
  RAISE NOTICE 'PFBENCH % % % % %', coalesce(t0, 0), coalesce(t1, 0), left_n, coalesce(s0, 0), ts;
END
\$\$;
SQL
}

# One latency sample (bench_latency_phase's method): FILE is moved into the
# inbox; prints "mtime ctime t_seen t_ingested polls copying_polls", the last
# two counting the server-side polls after the settle end and those that saw
# the backup worker copying.
bench_backup_latency_sample() {
  local f=$1 name times
  name=$(basename "$f")
  mv "$f" "$INBOX/$name"
  times=$(stat -c '%.9Y %.9Z' "$INBOX/$name" 2>/dev/null)
  local settle_end
  settle_end=$(awk -v t="$times" -v s="$PF_BENCH_SETTLE" 'BEGIN { split(t, a, " "); printf "%.6f\n", (a[1] > a[2] ? a[1] : a[2]) + s }')
  local seen
  seen=$(pf_psql "$CL" -d "$BENCH_DB" -X -q -v ON_ERROR_STOP=1 2>&1 <<SQL | sed -n 's/.*PFBENCH //p'
DO \$\$
DECLARE ts double precision; ing double precision; polls int := 0; busy int := 0;
        deadline timestamptz := clock_timestamp() + interval '60 seconds';
BEGIN
  LOOP
    ts := extract(epoch FROM clock_timestamp());
    PERFORM pg_catalog.pg_stat_clear_snapshot();   -- pg_stat_activity is cached per transaction otherwise
    IF ts >= $settle_end THEN
      polls := polls + 1;
      IF EXISTS (SELECT FROM pg_catalog.pg_stat_activity WHERE backend_type = 'photofactory backup'
                    AND query = 'copying to a backup target') THEN busy := busy + 1; END IF;
    END IF;
    SELECT extract(epoch FROM ingested_at) INTO ing FROM photofactory.media_assets WHERE original_name = '$name';
    EXIT WHEN FOUND OR clock_timestamp() > deadline;
    PERFORM pg_sleep(0.002);
  END LOOP;
  RAISE NOTICE 'PFBENCH % % % %', ts, coalesce(ing, 0), polls, busy;
END
\$\$;
SQL
)
  echo "$times $seen"
}

# Keeps the backup worker copying: whenever nothing is left to copy, the
# current target is retired (its copies deleted: bench data) and a fresh one
# added. Runs until the file STOP exists.
bench_backup_keep_busy() {
  local stop=$1 n=0 left=0
  while [ ! -e "$stop" ]; do
    # (with no target enabled nothing counts as backed up: the first one is added at once)
    [ "$n" -gt 0 ] && left=$(bsql -c "SELECT count(*) FROM photofactory.media_assets WHERE NOT is_backed_up" 2>/dev/null)
    if [ "$left" = 0 ]; then
      bsql -c "SELECT photofactory.retire_backup_target('busy$n')" >/dev/null 2>&1
      rm -rf "$RUN/backup/busy$n"
      n=$((n + 1))
      mkdir -p "$RUN/backup/busy$n"; pf_own "$RUN/backup/busy$n"
      bsql -c "SET client_min_messages = error" -c "SELECT photofactory.add_backup_target('busy$n', '$RUN/backup/busy$n')" \
        >/dev/null 2>&1
    fi
    sleep 0.1
  done
}

bench_backup_latency_run() {  # MODE (idle | backup) FILES...
  local mode=$1 f i=0 r; shift
  for f in "$@"; do
    i=$((i + 1))
    sleep 1                       # the librarian is asleep on its latch
    r=$(bench_backup_latency_sample "$f")
    local mtime ctime t_seen t_ing polls busy
    read -r mtime ctime t_seen t_ing polls busy <<<"$r"
    if [ "${t_ing:-0}" = 0 ]; then bench_fail backup "latency ($mode): $(basename "$f") not ingested within 60 s"; return 1; fi
    bench_record section=backup_latency mode="$mode" file="$(basename "$f")" i="$i" mtime="$mtime" ctime="$ctime" \
      settle_s="$PF_BENCH_SETTLE" t_seen="$t_seen" t_ingested="$t_ing" polls="${polls:-0}" copying_polls="${busy:-0}"
  done
}

bench_backup_phase() {
  local files=$PF_BENCH_BACKUP_FILES size=$PF_BENCH_BACKUP_BYTES base=$RUN/backup
  pf_log "backup: $files files of $size bytes; cp -a + sync, rsync -a + sha256sum, openssl dgst; ingest latency"
  bench_ensure_corpus latency || return 1
  PF_BENCH_EXTRA_CONF="$PF_BENCH_EXTRA_CONF
photofactory.backup_scrub_rate = 100000" bench_cluster_up backup 1 || { bench_cluster_down; return 1; }
  mkdir -p "$base/cp" "$base/rsync" "$base/pf" "$base/lat"
  # The corpus, in Storage's layout (10 files per day folder), and its ledger rows.
  local i d f t0 t1 rows=$base/rows.tsv
  for i in $(seq 1 "$files"); do
    d=$STORAGE/Originals/2024/2024-01-$(printf '%02d' $(( (i - 1) / 10 % 28 + 1 )))
    [ -d "$d" ] || mkdir -p "$d"
    openssl rand -out "$d/BK_$i.JPG" "$size" 2>/dev/null || head -c "$size" /dev/urandom >"$d/BK_$i.JPG"
  done
  (cd "$STORAGE/Originals" && find . -type f -name 'BK_*' -print0 | xargs -0 openssl dgst -sha256 -r) |
    awk -v st="$STORAGE/Originals" -v inbox="$INBOX" -v size="$size" '{
      p = $2; sub(/^\*?\.\//, "", p); n = split(p, a, "/");
      printf "%s\t%s\t%s/%s\t%s/%s\t%s\t2024-01-01 12:00:00\n", $1, a[n], inbox, a[n], st, p, size }' >"$rows"
  pf_own "$STORAGE"
  bsql -c "COPY photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes, captured_at)
           FROM STDIN" <"$rows" || { bench_cluster_down; return 1; }
  local bytes=$((files * size))
  sync

  # Baselines, each from page-cached originals to the same disk.
  cat "$STORAGE"/Originals/*/*/BK_* >/dev/null
  local m0 m1
  m0=$(bench_machine_cpu); t0=$EPOCHREALTIME
  cp -a "$STORAGE/Originals" "$base/cp/" && sync
  t1=$EPOCHREALTIME; m1=$(bench_machine_cpu)
  bench_record section=backup_baseline tool=cp_sync files="$files" bytes="$bytes" t_start="$t0" t_end="$t1" \
    machine_busy="$(bench_busy "$m0" "$m1")"
  # What the verification adds at best: the copies read back with O_DIRECT.
  bench_drop_cached "$base/cp"
  t0=$EPOCHREALTIME
  bench_backup_direct_read "$base/cp"
  t1=$EPOCHREALTIME
  bench_record section=backup_baseline tool=direct_reread files="$files" bytes="$bytes" t_start="$t0" t_end="$t1"
  # The disk doing both at once: as many bytes written (O_DIRECT, fsync) while
  # the cp copies are read back (O_DIRECT). A disk whose bandwidth is shared
  # between reads and writes (this virtual one) cannot beat this with any overlap.
  bench_drop_cached "$base/cp"
  t0=$EPOCHREALTIME
  dd if=/dev/zero of="$base/overlap.bin" bs=8M count=$(( (bytes + 8388607) / 8388608 )) oflag=direct conv=fsync \
    status=none &
  local dd_pid=$!
  bench_backup_direct_read "$base/cp"
  wait "$dd_pid"
  t1=$EPOCHREALTIME
  bench_record section=backup_baseline tool=write_read_overlap files="$files" bytes="$bytes" t_start="$t0" t_end="$t1"
  rm -f "$base/overlap.bin"
  rm -rf "$base/cp"
  if command -v rsync >/dev/null; then
    cat "$STORAGE"/Originals/*/*/BK_* >/dev/null
    m0=$(bench_machine_cpu); t0=$EPOCHREALTIME
    rsync -a "$STORAGE/Originals" "$base/rsync/" && find "$base/rsync" -type f -print0 | xargs -0 sha256sum >/dev/null
    t1=$EPOCHREALTIME; m1=$(bench_machine_cpu)
    bench_record section=backup_baseline tool=rsync_sha256sum files="$files" bytes="$bytes" t_start="$t0" t_end="$t1" \
      machine_busy="$(bench_busy "$m0" "$m1")"
  else
    bench_fail backup "rsync is not installed (bash scripts/install-deps.sh)"
  fi
  rm -rf "$base/rsync"
  sync

  # The backup service.
  cat "$STORAGE"/Originals/*/*/BK_* >/dev/null
  pf_own "$base"
  bench_backup_wait_copied bench >"$RUN/backup-wait" &
  local waiter=$! t_add
  sleep 0.3
  m0=$(bench_machine_cpu); t_add=$EPOCHREALTIME
  bsql -c "SET client_min_messages = error" -c "SELECT photofactory.add_backup_target('bench', '$base/pf')" >/dev/null ||
    { bench_fail backup "add_backup_target failed"; bench_cluster_down; return 1; }
  wait "$waiter"
  m1=$(bench_machine_cpu)
  local c0 c1 left s0 s1
  read -r c0 c1 left s0 s1 <"$RUN/backup-wait"
  local copies
  copies=$(bsql -c "SELECT count(*) FROM photofactory.asset_copies WHERE status = 'ok'")
  bench_record section=backup_copy files="$files" bytes="$bytes" t_add="$t_add" t_start="${c0:-0}" t_end="${c1:-0}" \
    left="${left:-?}" copies="$copies" machine_busy="$(bench_busy "$m0" "$m1")"
  # Its first scrub pass, which starts once everything is copied.
  bench_record section=backup_scrub files="$files" bytes="$bytes" t_start="${s0:-0}" t_end="${s1:-0}" passes=1
  bench_drop_cached "$base/pf/Originals"
  t0=$EPOCHREALTIME
  (cd "$base/pf/Originals" && find . -type f -print0 | xargs -0 openssl dgst -sha256 >/dev/null)
  t1=$EPOCHREALTIME
  bench_record section=backup_baseline tool=openssl_uncached files="$files" bytes="$bytes" t_start="$t0" t_end="$t1"
  bsql -c "SELECT photofactory.retire_backup_target('bench')" >/dev/null

  # Ingest latency without and with a backup running. Each sample is a
  # latency-corpus file with a few bytes appended (unique content: no duplicates).
  local mode n=0 lst rc=0
  for mode in idle backup; do
    lst=()
    for f in "$C_FILES"/*; do
      n=$((n + 1))
      { cat "$f"; printf 'pf-bench-%s-%d' "$mode" "$n"; } >"$base/lat/$mode-$(basename "$f")"
      lst+=("$base/lat/$mode-$(basename "$f")")
    done
    pf_own "$base/lat"
    if [ "$mode" = backup ]; then
      rm -f "$base/stop"
      bench_backup_keep_busy "$base/stop" &
      local keeper=$!
      # wait until the worker copies
      for i in $(seq 1 200); do
        bsql -c "SELECT 1 FROM pg_stat_activity WHERE backend_type = 'photofactory backup'
                  AND query = 'copying to a backup target'" | grep -q 1 && break
        sleep 0.05
      done
      bench_backup_latency_run backup "${lst[@]}" || rc=1
      touch "$base/stop"; wait "$keeper"
    else
      bench_backup_latency_run idle "${lst[@]}" || rc=1
    fi
  done
  bench_cluster_down
  rm -rf "${RUN:?}/backup"
  return $rc
}
