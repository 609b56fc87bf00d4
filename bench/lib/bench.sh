# Functions of bench/run.sh (sourced after scripts/lib/common.sh). Needs: RUN,
# RESULTS, ARTIFACTS, PF_BENCH_* (bench_defaults). Every measurement appends one
# JSON object to $RESULTS; bench/lib/report.pl derives rates, ratios and the
# target verdicts from these raw timestamps and counters.

BENCH_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_DB=pfbench

# --- settings ---------------------------------------------------------------
bench_defaults() {
  local quick=$1
  : "${PF_BENCH_DIR:=/var/tmp/photofactory-bench}"
  : "${PF_BENCH_PORT:=54421}"
  : "${PF_BENCH_SETTLE:=1}"
  : "${PF_BENCH_WORKERS:=1 2}"
  : "${PF_BENCH_SEED:=1}"
  : "${PF_BENCH_BASELINE_RUNS:=3}"
  : "${PF_BENCH_QUERY_RUNS:=5}"
  : "${PF_BENCH_EXTRA_CONF:=}"
  if [ "$quick" = 1 ]; then
    : "${PF_BENCH_PHOTOS:=60}"        "${PF_BENCH_PHOTO_MIN:=1000000}"   "${PF_BENCH_PHOTO_MAX:=2000000}"
    : "${PF_BENCH_SMALL:=1000}"       "${PF_BENCH_SMALL_BYTES:=40960}"
    : "${PF_BENCH_LARGE:=2}"          "${PF_BENCH_LARGE_MIN:=33554432}"  "${PF_BENCH_LARGE_MAX:=41943040}"
    : "${PF_BENCH_LATENCY_FILES:=5}"
    : "${PF_BENCH_LEDGER_ROWS:=50000}"
    : "${PF_BENCH_GEOCODER_SAMPLE:=5000}"
    : "${PF_BENCH_TIMEOUT:=300}"
    : "${PF_BENCH_KEEP_CORPUS:=0}"
  else
    : "${PF_BENCH_PHOTOS:=2000}"      "${PF_BENCH_PHOTO_MIN:=1000000}"   "${PF_BENCH_PHOTO_MAX:=5000000}"
    : "${PF_BENCH_SMALL:=20000}"      "${PF_BENCH_SMALL_BYTES:=40960}"
    : "${PF_BENCH_LARGE:=10}"         "${PF_BENCH_LARGE_MIN:=209715200}" "${PF_BENCH_LARGE_MAX:=251658240}"
    : "${PF_BENCH_LATENCY_FILES:=20}"
    : "${PF_BENCH_LEDGER_ROWS:=1000000}"
    : "${PF_BENCH_GEOCODER_SAMPLE:=20000}"
    : "${PF_BENCH_TIMEOUT:=3600}"
    : "${PF_BENCH_KEEP_CORPUS:=1}"
  fi
  : "${PF_BENCH_LATENCY_MIN:=2000000}" "${PF_BENCH_LATENCY_MAX:=4000000}"
}

# --- recording ----------------------------------------------------------------
# bench_record key=value ...: one JSON object per line; numbers stay numbers.
bench_record() {
  local kv k v sep="" line="{"
  for kv in "$@"; do
    k=${kv%%=*}; v=${kv#*=}
    if [[ $v =~ ^-?[0-9]+(\.[0-9]+)?$ ]] || [ "$v" = null ] || [ "$v" = true ] || [ "$v" = false ]; then
      line+="$sep\"$k\":$v"
    else
      v=${v//\\/\\\\}; v=${v//\"/\\\"}; v=${v//$'\n'/\\n}; v=${v//$'\t'/ }
      line+="$sep\"$k\":\"$v\""
    fi
    sep=,
  done
  echo "$line}" >>"$RESULTS"
}

bench_fail() {  # bench_fail PHASE MESSAGE
  echo "FAILED: $1: $2" >&2
  echo "$1: $2" >>"$RUN/failures"
  bench_record section=failure phase="$1" message="$2"
}

bench_meta_json() {
  local quick=$1 so commit dirty
  so=$(pg_config --pkglibdir)/photofactory.so
  commit=${BENCH_COMMIT:-$(git -C "$PF_ROOT" rev-parse HEAD 2>/dev/null || echo unknown)}
  dirty=0
  [ -n "${BENCH_COMMIT:-}" ] || dirty=$(git -C "$PF_ROOT" status --porcelain -- src sql Makefile 2>/dev/null | wc -l)
  BENCH_META_SO=$( [ -f "$so" ] && sha256sum "$so" | cut -c1-16 || echo none)
  BENCH_META_SO="$BENCH_META_SO (extension files ${BENCH_INSTALLED_START:-?})"
  perl -MJSON::PP -e '
    my %m = (quick => $ARGV[0] ? JSON::PP::true : JSON::PP::false, commit => $ARGV[1],
             src_dirty_files => $ARGV[2] + 0, so_sha256_prefix => $ARGV[3], host => $ARGV[4],
             cpus => $ARGV[5] + 0, kernel => $ARGV[6], postgres => $ARGV[7], date_utc => $ARGV[8],
             loadavg_start => $ARGV[9], cpu_model => $ARGV[10]);
    for (sort keys %ENV) { $m{settings}{$_} = $ENV{$_} if /^PF_BENCH_/ }
    $m{loadavg_end} = do { open my $f, "<", "/proc/loadavg"; my $l = <$f>; chomp $l; $l };
    print JSON::PP->new->canonical->encode(\%m);' \
    "$quick" "$commit" "$dirty" "$BENCH_META_SO" "$(hostname)" "$(nproc)" "$(uname -r)" \
    "$(psql --version | awk '{print $3}')" "$(date -u +%FT%TZ)" "$BENCH_LOADAVG_START" \
    "$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)"
}
BENCH_LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)

# The installed extension (library, SQL script, control file) as one short
# hash. The machine may be shared: if it changes during a run, another install
# ran without holding the lock and the figures of this run are invalid.
bench_installed_id() {
  cat "$(pg_config --pkglibdir)/photofactory.so" "$(pg_config --sharedir)"/extension/photofactory* 2>/dev/null |
    sha256sum | cut -c1-16
}
bench_check_installed() {  # bench_check_installed WHEN
  local now
  now=$(bench_installed_id)
  if [ "$now" != "$BENCH_INSTALLED" ]; then
    bench_fail install "the installed photofactory changed $1 ($BENCH_INSTALLED -> $now): another install ran without the lock; the figures of this run mix two builds"
    BENCH_INSTALLED=$now
    return 1
  fi
}
export PF_BENCH_DIR PF_BENCH_PORT PF_BENCH_SETTLE PF_BENCH_WORKERS PF_BENCH_SEED

# --- corpora --------------------------------------------------------------------
# bench_corpus_spec KIND: sets C_FORMAT C_COUNT C_MIN C_MAX C_SEED C_PER_DAY C_PREFIX C_DIR
bench_corpus_spec() {
  case $1 in
    photos)  C_FORMAT=jpeg C_COUNT=$PF_BENCH_PHOTOS C_MIN=$PF_BENCH_PHOTO_MIN C_MAX=$PF_BENCH_PHOTO_MAX
             C_SEED=$((PF_BENCH_SEED * 10 + 1)) C_PER_DAY=10 C_PREFIX=IMG_ ;;
    small)   C_FORMAT=jpeg C_COUNT=$PF_BENCH_SMALL C_MIN=$PF_BENCH_SMALL_BYTES C_MAX=$PF_BENCH_SMALL_BYTES
             C_SEED=$((PF_BENCH_SEED * 10 + 2)) C_PER_DAY=20 C_PREFIX=S_ ;;
    large)   C_FORMAT=mp4 C_COUNT=$PF_BENCH_LARGE C_MIN=$PF_BENCH_LARGE_MIN C_MAX=$PF_BENCH_LARGE_MAX
             C_SEED=$((PF_BENCH_SEED * 10 + 3)) C_PER_DAY=1 C_PREFIX=VID_ ;;
    latency) C_FORMAT=jpeg C_COUNT=$PF_BENCH_LATENCY_FILES C_MIN=$PF_BENCH_LATENCY_MIN C_MAX=$PF_BENCH_LATENCY_MAX
             C_SEED=$((PF_BENCH_SEED * 10 + 4)) C_PER_DAY=1 C_PREFIX=LAT_ ;;
    *) echo "unknown corpus $1" >&2; return 1 ;;
  esac
  C_DIR=$PF_BENCH_DIR/corpus/$1-$C_COUNT-$C_MIN-$C_MAX-s$C_SEED
}

bench_estimate_bytes() {  # what the selected corpora need on disk (those not generated yet)
  local k need=0
  for k in photos small large latency; do
    want "$k" || continue
    bench_corpus_spec "$k"
    [ -f "$C_DIR/manifest" ] && continue
    need=$((need + C_COUNT * (C_MIN + C_MAX) / 2))
  done
  echo "$need"
}

bench_check_disk() {
  local need avail ledger=0
  need=$(bench_estimate_bytes)
  want ledger && ledger=$((PF_BENCH_LEDGER_ROWS * 1500))   # table + indexes + WAL, generously
  need=$((need + ledger + 1073741824))                        # + 1 GiB headroom
  avail=$(df --output=avail -B1 "$PF_BENCH_DIR" | tail -1)
  echo "disk: need about $((need >> 20)) MiB under $PF_BENCH_DIR, $((avail >> 20)) MiB available"
  if [ "$avail" -lt "$need" ]; then
    echo "not enough free space: set PF_BENCH_DIR to a larger filesystem or reduce PF_BENCH_* sizes" >&2
    return 1
  fi
}

# Counts the files of DIR and their total size: "N BYTES".
bench_count() { find "$1" -type f -printf '%s\n' 2>/dev/null | awk '{n++; s+=$1} END {printf "%.0f %.0f\n", n, s}'; }

# bench_ensure_corpus KIND: generates the corpus unless an identical one is cached.
# Sets C_* and C_FILES (the folder that is dropped), C_BYTES.
bench_ensure_corpus() {
  bench_corpus_spec "$1" || return 1
  C_FILES=$C_DIR/files
  echo "$C_DIR" >>"$RUN/corpora"
  if [ -f "$C_DIR/manifest" ]; then
    local want_n want_b got
    read -r want_n want_b <"$C_DIR/manifest"
    got=$(bench_count "$C_FILES")
    if [ "$got" = "$want_n $want_b" ]; then
      C_BYTES=$want_b
      echo "corpus $1: reusing $C_DIR ($want_n files, $((want_b >> 20)) MiB)"
      return 0
    fi
    echo "corpus $1: cached copy incomplete ($got, want $want_n $want_b); regenerating"
  fi
  rm -rf "$C_DIR"
  mkdir -p "$C_DIR"
  local t0=$EPOCHREALTIME line
  line=$(perl "$BENCH_LIB/gen-corpus.pl" "$C_FORMAT" "$C_FILES" "$C_COUNT" "$C_MIN" "$C_MAX" "$C_SEED" \
         "$C_PER_DAY" "$C_PREFIX") || { echo "corpus generation failed" >&2; return 1; }
  local t1=$EPOCHREALTIME
  rm -rf "$C_DIR"/../.templates-*-s"$C_SEED" 2>/dev/null
  C_BYTES=$(bench_count "$C_FILES" | awk '{print $2}')
  bench_count "$C_FILES" >"$C_DIR/manifest"
  pf_own "$C_DIR"
  chmod 755 "$C_DIR"
  echo "corpus $1: generated $line in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s"
  bench_record section=generate corpus="$1" files="$C_COUNT" bytes="$C_BYTES" t_start="$t0" t_end="$t1"
}

# Moves every file found under the given folders back into the corpus folder DEST.
bench_collect() {  # bench_collect DEST SRC...
  local dest=$1; shift
  mkdir -p "$dest"
  local s
  for s in "$@"; do
    [ -e "$s" ] || continue
    find "$s" -type f -print0 | xargs -0 -r mv -n -t "$dest"
  done
  pf_own "$dest"
}

# After a run: the corpus must be complete again, else it is dropped from the
# cache (it is regenerated next time).
bench_verify_corpus() {
  local want_n want_b got
  read -r want_n want_b <"$C_DIR/manifest"
  got=$(bench_count "$C_FILES")
  if [ "$got" != "$want_n $want_b" ]; then
    echo "corpus $C_DIR: $got after restoring, expected $want_n $want_b; it will be regenerated" >&2
    rm -f "$C_DIR/manifest"
    return 1
  fi
}

# Best effort from the EXIT trap: put back whatever a run had moved away.
bench_restore_all() {
  [ -n "${DROP_DEST:-}" ] || return 0
  bench_collect "$DROP_DEST" "${DROP_FROM[@]}"
  DROP_DEST=""
}

bench_drop_corpora() {
  [ -f "$RUN/corpora" ] || return 0
  sort -u "$RUN/corpora" | while read -r d; do rm -rf "$d"; done
  rmdir "$PF_BENCH_DIR/corpus" 2>/dev/null || true
}

# --- clusters ---------------------------------------------------------------------
bsql() { pf_psql "$CL" -d "$BENCH_DB" -X -A -t -q -v ON_ERROR_STOP=1 "$@"; }

# bench_cluster_up NAME WORKERS: a fresh cluster whose librarians watch
# $RUN/NAME/inbox and store into $RUN/NAME/storage. Sets CL INBOX STORAGE LIB_PIDS.
bench_cluster_up() {
  if bench_cluster_try "$@"; then return 0; fi
  # Once more from scratch, so one stuck start-up does not lose a whole phase;
  # the report lists it as a warning, with what the workers were doing.
  bench_record section=warning phase="$1" message="cluster start-up: librarians not ready after 60 s; retried. pg_stat_activity: ${BENCH_ACTIVITY:-?}"
  bench_cluster_down
  rm -rf "${RUN:?}/$1"
  bench_cluster_try "$@"
}

bench_cluster_try() {
  local name=$1 workers=$2
  local base=$RUN/$name
  bench_check_installed "before the $name run"
  CL=$base/pg INBOX=$base/inbox STORAGE=$base/storage
  mkdir -p "$INBOX" "$STORAGE"
  pf_own "$base"
  chmod 755 "$base"
  # The workers are pointed at the database only once the extension exists
  # (ALTER SYSTEM below), so they never wait out their 5 s extension poll.
  pf_cluster_init "$CL" "$PF_BENCH_PORT" "shared_preload_libraries = 'photofactory'
photofactory.database = '${BENCH_DB}_pending'
photofactory.inbox_dir = '$INBOX'
photofactory.storage_dir = '$STORAGE'
photofactory.librarian_workers = $workers
photofactory.thumbnailer_workers = 0
photofactory.settle_time = '${PF_BENCH_SETTLE}s'
photofactory.min_free_space = '64MB'
photofactory.syncthing_url = ''
photofactory.dashboard_listen = ''
$PF_BENCH_EXTRA_CONF" || return 1
  pf_cluster_start "$CL" || return 1
  pf_psql "$CL" -d postgres -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $BENCH_DB" || return 1
  bsql -c "SET client_min_messages = error" -c "CREATE EXTENSION photofactory" || return 1
  pf_psql "$CL" -d postgres -X -q -v ON_ERROR_STOP=1 -c "ALTER SYSTEM SET photofactory.database = '$BENCH_DB'" \
    -c "SELECT pg_reload_conf()" >/dev/null || return 1
  local i n=0
  for i in $(seq 1 300); do
    n=$(bsql -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'photofactory librarian'
                   AND query LIKE 'Watching %'" 2>/dev/null || echo 0)
    [ "$n" = "$workers" ] && break
    sleep 0.2
  done
  if [ "$n" != "$workers" ]; then
    BENCH_ACTIVITY=$(pf_psql "$CL" -d postgres -X -A -t -q -c "SELECT string_agg(format('%s [%s] %s', backend_type, pid,
                       left(coalesce(query, ''), 120)), '; ') FROM pg_stat_activity
                       WHERE backend_type LIKE 'photofactory%'" 2>&1)
    echo "librarians not ready ($n of $workers) after 60 s; photofactory processes: $BENCH_ACTIVITY; server log:" >&2
    tail -30 "$CL/log/server.log" >&2
    return 1
  fi
  LIB_PIDS=$(bsql -c "SELECT string_agg(pid::text, ' ' ORDER BY pid) FROM pg_stat_activity
                        WHERE backend_type = 'photofactory librarian'")
}

bench_cluster_down() {
  [ -n "${CL:-}" ] || return 0
  local cl=$CL
  mkdir -p "$ARTIFACTS/logs"
  cp "$CL/log/server.log" "$ARTIFACTS/logs/$(basename "$(dirname "$CL")").log" 2>/dev/null
  pf_cluster_stop "$CL"
  CL=""
  bench_check_installed "during the $(basename "$(dirname "$cl")") run"
}

# --- process sampling -----------------------------------------------------------------
# Peak RssAnon (kB) over PIDS, sampled every 50 ms until SIGTERM; written to OUT.
bench_rss_sampler() {
  local out=$1; shift
  local peak=0 p k v _ fifo
  fifo=$(mktemp -u "$RUN/tick.XXXXXX"); mkfifo "$fifo"; exec 9<>"$fifo"; rm -f "$fifo"
  trap 'echo "$peak" >"$out"; exit 0' TERM
  echo 0 >"$out"
  while :; do
    for p in "$@"; do
      [ -r "/proc/$p/status" ] || continue
      while read -r k v _; do
        if [ "$k" = RssAnon: ]; then [ "$v" -gt "$peak" ] && peak=$v; break; fi
      done <"/proc/$p/status"
    done
    read -r -t 0.05 -u 9 _   # sleeps 50 ms without forking
  done
}
# LIB_PIDS is a space-separated list: word splitting is intended below.
# shellcheck disable=SC2086
bench_start_sampler() { bench_rss_sampler "$1" $LIB_PIDS & SAMPLER_PID=$!; }
bench_stop_sampler() {
  [ -n "${SAMPLER_PID:-}" ] || return 0
  kill -TERM "$SAMPLER_PID" 2>/dev/null; wait "$SAMPLER_PID" 2>/dev/null; SAMPLER_PID=""
}

# Machine-wide CPU: "busy total" jiffies from /proc/stat (other engineers share
# the machine: a busy machine during a measurement shows up here).
bench_machine_cpu() {
  local _cpu u n sy idle io irq sirq st _rest
  read -r _cpu u n sy idle io irq sirq st _rest </proc/stat
  echo "$((u + n + sy + irq + sirq + st)) $((u + n + sy + idle + io + irq + sirq + st))"
}
bench_busy() {  # bench_busy "BEFORE" "AFTER" -> busy fraction of all CPUs in between
  local b0 t0 b1 t1
  read -r b0 t0 <<<"$1"; read -r b1 t1 <<<"$2"
  awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" 'BEGIN { printf "%.3f", (t > 0 ? b / t : 0) }'
}

# CPU ticks (utime + stime) and context switches summed over PIDS: "ticks vol invol".
bench_proc_counters() {
  local p ticks=0 vol=0 inv=0 stat k v _
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    stat=$(<"/proc/$p/stat"); stat=${stat##*) }
    read -r -a f <<<"$stat"
    ticks=$((ticks + f[11] + f[12]))
    while read -r k v _; do
      case $k in
        voluntary_ctxt_switches:) vol=$((vol + v)) ;;
        nonvoluntary_ctxt_switches:) inv=$((inv + v)) ;;
      esac
    done <"/proc/$p/status"
  done
  echo "$ticks $vol $inv"
}

# Waits (server-side, polling) until media_assets holds TARGET rows or TIMEOUT
# seconds pass. Prints: t_first n_first bytes_first t_last n_last bytes_last
# (epoch seconds of the polls that first saw any row / all rows).
bench_wait_rows() {
  local target=$1 timeout=$2
  pf_psql "$CL" -d "$BENCH_DB" -X -q -v ON_ERROR_STOP=1 2>&1 <<SQL | sed -n 's/.*PFBENCH //p'
DO \$\$
DECLARE
  n bigint := 0; b numeric := 0; ts double precision;
  t0 double precision; n0 bigint := 0; b0 numeric := 0;
  deadline timestamptz := clock_timestamp() + make_interval(secs => $timeout);
BEGIN
  LOOP
    ts := extract(epoch FROM clock_timestamp());
    SELECT count(*), coalesce(sum(size_bytes), 0) INTO n, b FROM photofactory.media_assets;
    IF n > 0 AND t0 IS NULL THEN t0 := ts; n0 := n; b0 := b; END IF;
    EXIT WHEN n >= $target OR clock_timestamp() > deadline;
    PERFORM pg_sleep(CASE WHEN n < 50 THEN 0.005 ELSE least(0.1, greatest(0.02, n / 200000.0)) END);
  END LOOP;
  RAISE NOTICE 'PFBENCH % % % % % %', coalesce(t0, 0), n0, b0, ts, n, b;
END
\$\$;
SQL
}

# Predicted files per librarian (FNV-1a of the path relative to the inbox, as
# src/pg/librarian.cpp splits work): "a/b/...".
bench_split() {  # bench_split DIR PREFIX WORKERS
  find "$1" -type f -printf "$2/%P\n" | perl -ne '
    chomp; my $h = 2166136261; for my $c (unpack("C*", $_)) { $h = (($h ^ $c) * 16777619) % 4294967296 }
    $n[$h % '"$3"']++; END { print join("/", map { $_ // 0 } @n[0 .. '"$3"' - 1]), "\n" }'
}

# --- baselines ------------------------------------------------------------------------
bench_baselines() {  # bench_baselines KIND (corpus set up by bench_ensure_corpus)
  local kind=$1 i t0 t1 t2
  pf_log "baselines: $kind"
  # Warm the page cache (and check every file reads), untimed.
  (cd "$C_FILES" && find . -type f -print0 | xargs -0 openssl dgst -sha256 >/dev/null) || return 1
  local m0 m1
  for i in $(seq 1 "$PF_BENCH_BASELINE_RUNS"); do
    m0=$(bench_machine_cpu); t0=$EPOCHREALTIME
    (cd "$C_FILES" && find . -type f -print0 | xargs -0 openssl dgst -sha256 >/dev/null)
    t1=$EPOCHREALTIME; m1=$(bench_machine_cpu)
    bench_record section=baseline corpus="$kind" tool=openssl run="$i" files="$C_COUNT" bytes="$C_BYTES" \
      t_start="$t0" t_end="$t1" machine_busy="$(bench_busy "$m0" "$m1")"
  done
  # coreutils sha256sum alone (context: it has no SHA extensions)
  t0=$EPOCHREALTIME
  (cd "$C_FILES" && find . -type f -print0 | xargs -0 sha256sum >/dev/null)
  t1=$EPOCHREALTIME
  bench_record section=baseline corpus="$kind" tool=sha256sum run=1 files="$C_COUNT" bytes="$C_BYTES" \
    t_start="$t0" t_end="$t1"

  # The organiser people script today: exiftool moves each file into
  # OUT/YYYY/YYYY-MM-DD by its capture date, then sha256sum of the moved files.
  local tag=DateTimeOriginal out=$RUN/exiftool-$kind
  [ "$C_FORMAT" = mp4 ] && tag=CreateDate     # QuickTime files have no DateTimeOriginal
  DROP_DEST=$C_FILES DROP_FROM=("$out")
  m0=$(bench_machine_cpu); t0=$EPOCHREALTIME
  exiftool -q -q -r -d "$out/%Y/%Y-%m-%d" "-Directory<$tag" "$C_FILES"
  t1=$EPOCHREALTIME
  (cd "$out" && find . -type f -print0 | xargs -0 sha256sum >/dev/null)
  t2=$EPOCHREALTIME; m1=$(bench_machine_cpu)
  local moved
  moved=$(bench_count "$out" | awk '{print $1}')
  bench_record section=baseline corpus="$kind" tool=exiftool_pipeline run=1 files="$C_COUNT" bytes="$C_BYTES" \
    t_start="$t0" t_mid="$t1" t_end="$t2" moved="$moved" tag="$tag" machine_busy="$(bench_busy "$m0" "$m1")"
  bench_collect "$C_FILES" "$out"
  DROP_DEST=""
  rm -rf "$out"
  [ "$moved" = "$C_COUNT" ] || { bench_fail "$kind" "exiftool moved $moved of $C_COUNT files"; }
  bench_verify_corpus
}

# --- ingest runs ------------------------------------------------------------------------
# bench_ingest KIND WORKERS [profile]: drop the corpus folder into the inbox of a
# fresh cluster (one rename) and time it until every file has its ledger row.
bench_ingest() {
  local kind=$1 workers=$2 mode=${3:-timed} name="$1-w$2"
  [ "$mode" = timed ] || name="$1-w$2-$mode"
  pf_log "photofactory: $kind, $workers librarian(s)${3:+ ($mode)}"
  bench_cluster_up "$name" "$workers" || { bench_cluster_down; return 1; }
  local split=""
  [ "$workers" -gt 1 ] && split=$(bench_split "$C_FILES" "$kind" "$workers")
  # Files must have settled before the drop (a rename does not change the
  # ctime of the files inside the folder; restoring them did).
  sync
  local newest
  newest=$(find "$C_FILES" -type f -printf '%C@\n' | sort -n | tail -1)
  perl -MTime::HiRes=time -e 'my $w = $ARGV[0] + $ARGV[1] + 0.2 - time; select(undef, undef, undef, $w) if $w > 0' \
    "$newest" "$PF_BENCH_SETTLE"

  local before after rss_file=$RUN/rss-$name wal0 wal1 tracer=""
  bench_start_sampler "$rss_file"
  # shellcheck disable=SC2086
  before=$(bench_proc_counters $LIB_PIDS)
  wal0=$(bsql -c "SELECT pg_current_wal_lsn()")
  if [ "$mode" = strace ]; then
    local p; for p in $LIB_PIDS; do
      strace -f -c -w -o "$ARTIFACTS/strace-$kind-w$workers-$p.txt" -p "$p" 2>/dev/null & tracer+=" $!"
    done
    sleep 1
  elif [ "$mode" = perf ]; then
    perf record -q -g -o "$RUN/perf-$name.data" -p "${LIB_PIDS// /,}" >/dev/null 2>&1 & tracer=$!
    sleep 1
  fi
  bench_wait_rows "$C_COUNT" "$PF_BENCH_TIMEOUT" >"$RUN/wait-$name" &
  local waiter=$!
  sleep 0.5                                   # the waiter is connected and polling
  DROP_DEST=$C_FILES DROP_FROM=("$INBOX" "$STORAGE")
  local m0 m1
  m0=$(bench_machine_cpu)
  local t_drop=$EPOCHREALTIME
  mv "$C_FILES" "$INBOX/$kind"
  wait "$waiter"
  m1=$(bench_machine_cpu)
  # shellcheck disable=SC2086
  after=$(bench_proc_counters $LIB_PIDS)
  bench_stop_sampler
  if [ -n "$tracer" ]; then
    # shellcheck disable=SC2086
    kill -INT $tracer 2>/dev/null
    # shellcheck disable=SC2086
    wait $tracer 2>/dev/null
  fi
  wal1=$(bsql -c "SELECT pg_current_wal_lsn()")
  local w t_first n_first b_first t_last n_last b_last
  read -r t_first n_first b_first t_last n_last b_last <"$RUN/wait-$name"
  local ledger events
  ledger=$(bsql -F' ' -c "SELECT extract(epoch FROM min(ingested_at)), extract(epoch FROM max(ingested_at)),
                                 count(DISTINCT ingested_at) FROM photofactory.media_assets")
  events=$(bsql -F' ' -c "SELECT count(*) FILTER (WHERE outcome = 'duplicate'), count(*) FILTER (WHERE outcome = 'rejected')
                           FROM photofactory.inbox_events")
  local walbytes deciles
  walbytes=$(bsql -c "SELECT pg_wal_lsn_diff('$wal1', '$wal0')::bigint")
  # When 10 %, 20 %, ... 100 % of the rows were committed (ledger time): a
  # per-file cost that grows with the run shows up as slower later deciles.
  deciles=$(bsql -c "SELECT array_to_string(array_agg(round(extract(epoch FROM t)::numeric, 3)), ' ')
                       FROM unnest((SELECT percentile_disc(ARRAY[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0])
                                      WITHIN GROUP (ORDER BY ingested_at) FROM photofactory.media_assets)) AS t")
  # Table statistics after the run (dead tuples, scans, autovacuum) for the record.
  mkdir -p "$ARTIFACTS/logs"
  pf_psql "$CL" -d "$BENCH_DB" -X -q -P footer=off -c "SELECT relname, n_tup_ins, n_tup_del, n_live_tup, n_dead_tup, seq_scan, seq_tup_read,
                                idx_scan, idx_tup_fetch, autovacuum_count, last_autovacuum
                           FROM pg_stat_user_tables WHERE schemaname = 'photofactory' ORDER BY relname" \
    -A -F' | ' >"$ARTIFACTS/logs/$name.table-stats.txt" 2>&1
  local l_min l_max l_tx dup rej
  read -r l_min l_max l_tx <<<"$ledger"
  read -r dup rej <<<"$events"
  local c0 v0 i0 c1 v1 i1
  read -r c0 v0 i0 <<<"$before"; read -r c1 v1 i1 <<<"$after"
  if [ "$mode" = timed ]; then
    bench_record section=ingest corpus="$kind" workers="$workers" files="$C_COUNT" bytes="$C_BYTES" \
      t_drop="$t_drop" t_first="${t_first:-0}" n_first="${n_first:-0}" bytes_first="${b_first:-0}" \
      t_last="${t_last:-0}" rows="${n_last:-0}" rows_bytes="${b_last:-0}" \
      ledger_first="${l_min:-0}" ledger_last="${l_max:-0}" ledger_transactions="${l_tx:-0}" \
      duplicates="${dup:-0}" rejected="${rej:-0}" peak_rss_anon_kb="$(cat "$rss_file")" \
      cpu_s="$(awk -v a="$c0" -v b="$c1" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", (b-a)/hz}')" \
      voluntary_switches=$((v1 - v0)) involuntary_switches=$((i1 - i0)) wal_bytes="${walbytes:-0}" \
      split="$split" librarian_pids="$LIB_PIDS" machine_busy="$(bench_busy "$m0" "$m1")" deciles="$deciles"
  fi
  [ "$mode" = perf ] && bench_perf_report "$RUN/perf-$name.data" "$ARTIFACTS/perf-$kind-w$workers.txt"
  if [ "$mode" = strace ]; then
    local sf
    for sf in "$ARTIFACTS"/strace-"$kind"-w"$workers"-*.txt; do
      [ -f "$sf" ] && bench_record section=strace corpus="$kind" workers="$workers" files="$C_COUNT" file="$sf"
    done
  fi
  bench_cluster_down
  mv "$INBOX/$kind" "$C_FILES.tmp" 2>/dev/null && { mv "$C_FILES.tmp" "$C_FILES" || true; }
  bench_collect "$C_FILES" "$INBOX" "$STORAGE"
  DROP_DEST=""
  rm -rf "${RUN:?}/$name"
  bench_verify_corpus || return 1
  if [ "${n_last:-0}" != "$C_COUNT" ]; then
    bench_fail "$kind" "$workers librarian(s): ${n_last:-0} of $C_COUNT rows after ${PF_BENCH_TIMEOUT}s"
    return 1
  fi
}

bench_perf_report() {  # bench_perf_report DATA OUT: flat profile, then the top call chains
  [ -f "$1" ] || return 0
  { echo "# perf record -g of the librarian(s) during one untimed run; flat profile (self time)"
    perf report -i "$1" --no-children --sort dso,symbol -g none --percent-limit 0.3 --stdio 2>/dev/null |
      grep -v '^#' | grep -v '^$' | head -60
    echo; echo "# by shared object"
    perf report -i "$1" --no-children --sort dso -g none --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -15
    echo; echo "# call chains (caller view, >= 2 %)"
    perf report -i "$1" --children --sort symbol -g caller,2,callee --percent-limit 5 --stdio 2>/dev/null |
      grep -v '^$' | head -250
  } >"$2"
  rm -f "$1"
}

bench_corpus_phase() {
  local kind=$1 w
  pf_log "corpus: $kind"
  bench_ensure_corpus "$kind" || return 1
  sync
  bench_baselines "$kind" || return 1
  for w in $PF_BENCH_WORKERS; do
    bench_ingest "$kind" "$w" || return 1
  done
  if [ "${profile:-0}" = 1 ]; then
    bench_ingest "$kind" 1 strace || return 1
    bench_ingest "$kind" 1 perf || return 1
  fi
}

# --- latency at idle ------------------------------------------------------------------------
# One file at a time into an idle inbox: time from the end of its settle period
# (max(mtime, ctime) + settle_time) to its ledger row being visible.
bench_latency_phase() {
  pf_log "latency at idle: $PF_BENCH_LATENCY_FILES files, settle_time ${PF_BENCH_SETTLE}s"
  bench_ensure_corpus latency || return 1
  sync
  bench_cluster_up latency 1 || { bench_cluster_down; return 1; }
  DROP_DEST=$C_FILES DROP_FROM=("$INBOX" "$STORAGE")
  local f name t_drop times seen rc=0 i=0
  for f in "$C_FILES"/*; do
    name=$(basename "$f")
    i=$((i + 1))
    sleep 1                       # idle: the librarian is asleep on its latch
    t_drop=$EPOCHREALTIME
    mv "$f" "$INBOX/$name"
    times=$(stat -c '%.9Y %.9Z' "$INBOX/$name" 2>/dev/null)
    seen=$(pf_psql "$CL" -d "$BENCH_DB" -X -q -v ON_ERROR_STOP=1 2>&1 <<SQL | sed -n 's/.*PFBENCH //p'
DO \$\$
DECLARE ts double precision; ing double precision;
        deadline timestamptz := clock_timestamp() + interval '60 seconds';
BEGIN
  LOOP
    ts := extract(epoch FROM clock_timestamp());
    SELECT extract(epoch FROM ingested_at) INTO ing FROM photofactory.media_assets WHERE original_name = '$name';
    EXIT WHEN FOUND OR clock_timestamp() > deadline;
    PERFORM pg_sleep(0.002);
  END LOOP;
  RAISE NOTICE 'PFBENCH % %', ts, coalesce(ing, 0);
END
\$\$;
SQL
)
    local mtime ctime t_seen t_ing
    read -r mtime ctime <<<"$times"
    read -r t_seen t_ing <<<"$seen"
    if [ "${t_ing:-0}" = 0 ]; then bench_fail latency "$name not ingested within 60 s"; rc=1; break; fi
    bench_record section=latency file="$name" i="$i" t_drop="$t_drop" mtime="$mtime" ctime="$ctime" \
      settle_s="$PF_BENCH_SETTLE" t_seen="$t_seen" t_ingested="$t_ing"
  done
  bench_cluster_down
  bench_collect "$C_FILES" "$INBOX" "$STORAGE"
  DROP_DEST=""
  rm -rf "$RUN/latency"
  bench_verify_corpus
  return $rc
}

# --- ledger at scale --------------------------------------------------------------------------
bench_ledger_phase() {
  local rows=$PF_BENCH_LEDGER_ROWS
  pf_log "ledger: $rows rows, query plans and times"
  bench_cluster_up ledger 1 || { bench_cluster_down; return 1; }
  local t0=$EPOCHREALTIME
  # On stdin: the cluster user may not be able to read the checkout (a clone under /root or a 0700 temp dir).
  bsql -v rows="$rows" <"$BENCH_LIB/ledger-load.sql" || { bench_cluster_down; return 1; }
  local t1=$EPOCHREALTIME
  local stats
  stats=$(bsql -F' ' -c "SELECT count(*), pg_total_relation_size('photofactory.media_assets'),
                                count(DISTINCT ingested_at) FROM photofactory.media_assets")
  local n size tx
  read -r n size tx <<<"$stats"
  bench_record section=ledger_load rows="$n" total_relation_bytes="$size" transactions="$tx" t_start="$t0" t_end="$t1"
  mkdir -p "$ARTIFACTS/plans" "$RUN/queries"
  # The geocoder and dashboard phases use this ledger, after the queries
  # (bench/lib/geocoder.sh, bench/lib/dashboard.sh).
  if ! want ledger; then
    if want geocoder; then bench_geocoder_phase || bench_fail geocoder "geocoder phase failed"; fi
    if want dashboard; then bench_dashboard_phase || bench_fail dashboard "dashboard phase failed"; fi
    bench_cluster_down; rm -rf "$RUN/ledger"; return 0
  fi
  perl "$BENCH_LIB/ledger-queries.pl" split "$BENCH_LIB/ledger-queries.sql" "$RUN/queries" "$PF_BENCH_QUERY_RUNS" \
    || { bench_cluster_down; return 1; }
  local q qname m0 m1
  while read -r q; do
    qname=$(basename "$q" .time.sql)
    # Timing: one fresh session per query, EXPLAIN (ANALYZE, BUFFERS) N times,
    # each in a transaction that is rolled back (claims lock rows).
    m0=$(bench_machine_cpu)
    pf_psql "$CL" -d "$BENCH_DB" -X -v ON_ERROR_STOP=1 -f "$q" >"$ARTIFACTS/plans/$qname.txt" 2>&1 ||
      bench_fail ledger "query $qname failed (see plans/$qname.txt)"
    m1=$(bench_machine_cpu)
    # The plans of the statements inside functions, through auto_explain.
    { echo; echo "---- nested statements (auto_explain) ----"
      pf_psql "$CL" -d "$BENCH_DB" -X -v ON_ERROR_STOP=1 -f "${q%.time.sql}.nested.sql" 2>&1 >/dev/null |
        grep -v '^$'; } >>"$ARTIFACTS/plans/$qname.txt"
    perl "$BENCH_LIB/ledger-queries.pl" parse "$q" "$ARTIFACTS/plans/$qname.txt" "$(bench_busy "$m0" "$m1")" >>"$RESULTS"
  done <"$RUN/queries/list"
  if want geocoder; then bench_geocoder_phase || bench_fail geocoder "geocoder phase failed"; fi
  if want dashboard; then bench_dashboard_phase || bench_fail dashboard "dashboard phase failed"; fi
  bench_cluster_down
  rm -rf "$RUN/ledger"
}
