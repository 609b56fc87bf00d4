# The thumbnails phase (issue #15), on a cluster of its own. Sourced by
# bench/run.sh after bench.sh.
#
# Set-up (untimed, cached under $PF_BENCH_DIR/corpus like the other corpora):
# 12-megapixel JPEGs (Perlin colour fields plus sensor-like noise, about 5 MB
# each at Q90, EXIF orientations 1/6/8/3 in turn), HEICs encoded from some of
# them with heif-enc, 1080p H.264 videos from ffmpeg (every other one with a
# 90-degree rotation matrix) and one 100-megapixel JPEG. The librarian ingests
# them with the thumbnailer off; then one thumbnailer (thumbnailer_workers = 1,
# thumbnailer_threads = 1) renders everything once (warm-up: page cache, the
# Thumbnails/ fan-out folders).
#
# Timed, per kind: rethumbnail() of that kind's assets and a reload (which
# wakes the worker from its idle wait), then the clock runs until no asset of
# the kind is pending (polled in the server every 2 ms): the worker end to end
# -- claim, render, both renditions fsynced and renamed, mark, commit. The
# worker's CPU time comes from /proc/PID/stat, its peak RSS from VmHWM.
#
# Baselines on the same files (the corpus copies, page-cached), in the same
# run: vipsthumbnail making the same two renditions (-s 1440 to JPEG Q85 and
# -s 250 to WebP Q80, metadata stripped, as the worker does), one process per
# core (the files split round-robin) with VIPS_CONCURRENCY=1 like the worker's
# single libvips thread, each process given its whole list at once (start-up
# paid once); and ImageMagick convert -auto-orient -thumbnail for both sizes,
# one process per file, MAGICK_THREAD_LIMIT=1, one stream per core, on a
# sample of the files. Per-core throughput = files / (wall seconds x
# processes); the CPU-time ratio is reported beside it.

bench_thumbnails_spec() {
  if [ "${quick:-0}" = 1 ]; then
    : "${PF_BENCH_THUMB_JPEGS:=4}" "${PF_BENCH_THUMB_HEICS:=1}" "${PF_BENCH_THUMB_VIDEOS:=2}"
    : "${PF_BENCH_THUMB_CONVERT:=2}" "${PF_BENCH_THUMB_BIG_MP:=24}"
  else
    : "${PF_BENCH_THUMB_JPEGS:=60}" "${PF_BENCH_THUMB_HEICS:=12}" "${PF_BENCH_THUMB_VIDEOS:=12}"
    : "${PF_BENCH_THUMB_CONVERT:=12}"
  fi
  : "${PF_BENCH_THUMB_BIG_MP:=100}"
  export PF_BENCH_THUMB_JPEGS PF_BENCH_THUMB_HEICS PF_BENCH_THUMB_VIDEOS PF_BENCH_THUMB_CONVERT PF_BENCH_THUMB_BIG_MP
  T_DIR=$PF_BENCH_DIR/corpus/thumbnails-j$PF_BENCH_THUMB_JPEGS-h$PF_BENCH_THUMB_HEICS-v$PF_BENCH_THUMB_VIDEOS-b$PF_BENCH_THUMB_BIG_MP
}

# Files: $T_DIR/files/{IMG_J*.jpg, IMG_H*.heic, VID_V*.mp4, IMG_BIG.jpg}.
bench_thumbnails_generate() {
  [ -f "$T_DIR/complete" ] && return 0
  pf_log "thumbnails: generating $PF_BENCH_THUMB_JPEGS JPEGs, $PF_BENCH_THUMB_HEICS HEICs, $PF_BENCH_THUMB_VIDEOS videos, one ${PF_BENCH_THUMB_BIG_MP}-megapixel JPEG"
  rm -rf "$T_DIR"; mkdir -p "$T_DIR/files" "$T_DIR/work"
  local w=$T_DIR/work f=$T_DIR/files i b
  # A 4400x3300 texture: smooth colour fields plus per-pixel noise, so JPEGs
  # cost what photos cost to decode (a flat gradient would be far cheaper).
  for b in 0 1 2; do vips perlin "$w/p$b.v" 4400 3300 --cell-size 160 --seed $((PF_BENCH_SEED * 3 + b)) || return 1; done
  vips bandjoin "$w/p0.v $w/p1.v $w/p2.v" "$w/rgb.v" && rm -f "$w"/p?.v &&
    vips gaussnoise "$w/n.v" 4400 3300 --sigma 0.12 --mean 0 &&
    vips add "$w/rgb.v" "$w/n.v" "$w/sum.v" && rm -f "$w/rgb.v" "$w/n.v" &&
    vips linear "$w/sum.v" "$w/base.v" 110 128 --uchar && rm -f "$w/sum.v" || return 1  # noise sigma ~13 levels
  # Distinct crops (distinct bytes: no duplicate for the librarian), every
  # other one mirrored.
  for i in $(seq 1 "$PF_BENCH_THUMB_JPEGS"); do
    local n x y src=$w/base.v
    n=$(printf %04d "$i"); x=$(( (i * 37) % 400 )); y=$(( (i * 53) % 300 ))
    if [ $((i % 2)) = 0 ]; then vips flip "$w/base.v" "$w/flip.v" horizontal || return 1; src=$w/flip.v; fi
    vips crop "$src" "$f/IMG_J$n.jpg[Q=90]" "$x" "$y" 4000 3000 || return 1
  done
  rm -f "$w/flip.v"
  # EXIF orientations 1, 6, 8, 3 in turn (phones write 6 for portraits).
  local o list
  for o in 1 6 8 3; do
    list=()
    for i in $(seq 1 "$PF_BENCH_THUMB_JPEGS"); do
      case $((i % 4)):$o in 1:1|2:6|3:8|0:3) list+=("$f/IMG_J$(printf %04d "$i").jpg") ;; esac
    done
    [ ${#list[@]} -gt 0 ] || continue
    exiftool -q -q -overwrite_original -n "-Orientation=$o" "-DateTimeOriginal=2025:05:0$o 12:00:00" "${list[@]}" || return 1
  done
  for i in $(seq 1 "$PF_BENCH_THUMB_HEICS"); do
    n=$(printf %04d "$i")
    vips crop "$w/base.v" "$w/h.jpg[Q=95]" $(( (i * 41) % 400 )) $(( (i * 29) % 300 )) 4000 3000 &&
      heif-enc -p preset=ultrafast -q 50 -o "$f/IMG_H$n.heic" "$w/h.jpg" >/dev/null || return 1
  done
  rm -f "$w/h.jpg"
  for i in $(seq 1 "$PF_BENCH_THUMB_VIDEOS"); do
    n=$(printf %04d "$i")
    local rot=()
    [ $((i % 2)) = 1 ] && rot=(-metadata:s:v rotate=90)
    ffmpeg -nostdin -loglevel error -y -f lavfi -i "testsrc2=s=1920x1080:d=3:r=30" -vf "hue=h=$((i * 17))" \
      -c:v libx264 -preset veryfast -pix_fmt yuv420p "${rot[@]}" "$f/VID_V$n.mp4" || return 1
  done
  # About PF_BENCH_THUMB_BIG_MP megapixels (4:3), baseline JPEG: zoomed from a crop.
  local bw bh
  bw=$(perl -e 'printf "%d", sqrt($ARGV[0] * 1e6 * 4 / 3) / 3 + 1' "$PF_BENCH_THUMB_BIG_MP"); bh=$(( bw * 3 / 4 + 1 ))
  vips crop "$w/base.v" "$w/big.v" 0 0 "$bw" "$bh" && vips zoom "$w/big.v" "$f/IMG_BIG.jpg[Q=90]" 3 3 || return 1
  rm -rf "$w"
  touch "$T_DIR/complete"
}

bench_thumb_pending() {  # bench_thumb_pending LIKE: rows of that kind not thumbnailed
  bsql -c "SELECT count(*) FROM photofactory.media_assets WHERE original_name LIKE '$1' AND NOT is_thumbnailed"
}

# bench_thumb_worker KIND LIKE FILES: one timed rethumbnail of that kind.
bench_thumb_worker() {
  local kind=$1 like=$2 n=$3 pid=$T_PID c0 c1 out t0 t_end
  # VmHWM from here on: "5" resets the process's peak RSS to its current RSS.
  echo 5 >"/proc/$pid/clear_refs" 2>/dev/null
  bench_rss_sampler "$RUN/rss-thumbs-$kind" "$pid" &
  # shellcheck disable=SC2034  # read by bench_stop_sampler (bench.sh)
  SAMPLER_PID=$!
  c0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  # The clock starts in the server, before the rethumbnail() that queues the work.
  out=$(bsql 2>&1 <<SQL
DO \$\$BEGIN RAISE NOTICE 'PFSTART %', extract(epoch FROM clock_timestamp()); END\$\$;
SELECT photofactory.rethumbnail(id) FROM photofactory.media_assets WHERE original_name LIKE '$like';
SELECT pg_reload_conf();
DO \$\$
DECLARE deadline timestamptz := clock_timestamp() + interval '$PF_BENCH_TIMEOUT seconds';
BEGIN
  WHILE EXISTS (SELECT 1 FROM photofactory.media_assets WHERE original_name LIKE '$like' AND NOT is_thumbnailed)
        AND clock_timestamp() < deadline LOOP
    PERFORM pg_sleep(0.002);
  END LOOP;
  RAISE NOTICE 'PFEND %', extract(epoch FROM clock_timestamp());
END
\$\$;
SQL
)
  c1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  bench_stop_sampler
  t0=$(sed -n 's/.*PFSTART //p' <<<"$out"); t_end=$(sed -n 's/.*PFEND //p' <<<"$out")
  if [ -z "$t0" ] || [ -z "$t_end" ]; then bench_fail thumbnails "$kind: no start or end time: $out"; return 1; fi
  local left hwm
  left=$(bench_thumb_pending "$like")
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
  [ "$left" = 0 ] || { bench_fail thumbnails "$kind: $left of $n not thumbnailed after ${PF_BENCH_TIMEOUT}s"; return 1; }
  bench_record section=thumbnails kind="$kind" tool=worker files="$n" processes=1 t_start="$t0" t_end="$t_end" \
    cpu_s="$(awk -v a="$c0" -v b="$c1" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", (b-a)/hz}')" vm_hwm_kb="$hwm" \
    peak_rss_anon_kb="$(cat "$RUN/rss-thumbs-$kind")"
}

# bench_thumb_timed CMD...: runs CMD, prints "WALL_START WALL_END CPU_S" (children's user+sys).
bench_thumb_timed() {
  local t0 t1 cpu
  t0=$EPOCHREALTIME
  cpu=$( { "$@" >/dev/null 2>&1; times; } | tail -1 | perl -ne 'my $s = 0; $s += $1 * 60 + $2 while /(\d+)m([\d.]+)s/g; print $s')
  t1=$EPOCHREALTIME
  echo "$t0 $t1 $cpu"
}

# One vipsthumbnail process per core over its share of the files, both sizes.
bench_thumb_vips_all() {  # FILES...
  local p procs=$T_PROCS i
  for ((p = 0; p < procs; p++)); do
    local mine=()
    for ((i = p; i < $#; i += procs)); do mine+=("${@:i+1:1}"); done
    [ ${#mine[@]} -gt 0 ] || continue
    ( VIPS_CONCURRENCY=1 vipsthumbnail -s 1440 -o "$T_OUT/vips/%s-preview.jpg[Q=85,strip]" "${mine[@]}" &&
      VIPS_CONCURRENCY=1 vipsthumbnail -s 250 -o "$T_OUT/vips/%s-thumb.webp[Q=80,strip]" "${mine[@]}" ) &
  done
  wait
}

bench_thumb_convert_all() {  # FILES...: one convert per file and size, one stream per core
  local p procs=$T_PROCS i
  for ((p = 0; p < procs; p++)); do
    ( for ((i = p; i < $#; i += procs)); do
        local f=${*:i+1:1} b
        b=$(basename "$f")
        MAGICK_THREAD_LIMIT=1 convert "$f" -auto-orient -thumbnail 1440x1440 -strip -quality 85 "$T_OUT/im/$b-preview.jpg"
        MAGICK_THREAD_LIMIT=1 convert "$f" -auto-orient -thumbnail 250x250 -strip -quality 80 "$T_OUT/im/$b-thumb.webp"
      done ) &
  done
  wait
}

bench_thumb_baseline() {  # bench_thumb_baseline KIND TOOL FILES...
  local kind=$1 tool=$2 r; shift 2
  rm -rf "$T_OUT"; mkdir -p "$T_OUT/vips" "$T_OUT/im"
  r=$(bench_thumb_timed "bench_thumb_${tool}_all" "$@")
  local t0 t1 cpu made
  read -r t0 t1 cpu <<<"$r"
  made=$(find "$T_OUT" -type f -size +0 | wc -l)
  [ "$made" = $(( 2 * $# )) ] || bench_fail thumbnails "$kind: $tool made $made of $(( 2 * $# )) files"
  bench_record section=thumbnails kind="$kind" tool="$tool" files="$#" processes="$(( T_PROCS < $# ? T_PROCS : $# ))" \
    t_start="$t0" t_end="$t1" cpu_s="$cpu" outputs="$made"
}

bench_thumbnails_phase() {
  pf_log "thumbnails: worker end to end vs vipsthumbnail and convert -thumbnail"
  bench_thumbnails_spec
  local tool
  for tool in vips vipsthumbnail heif-enc ffmpeg convert exiftool; do
    command -v "$tool" >/dev/null || { bench_fail thumbnails "missing tool: $tool"; return 1; }
  done
  bench_thumbnails_generate || { bench_fail thumbnails "generating the files failed"; return 1; }
  local files=$T_DIR/files total
  total=$(find "$files" -type f | wc -l)
  T_PROCS=$(nproc) T_OUT=$RUN/thumbs-out
  bench_cluster_up thumbnails 1 || { bench_cluster_down; return 1; }
  local stage=$RUN/thumbnails/stage
  mkdir -p "$stage"; cp -r "$files" "$stage/thumbs"; touch -d '-1 minute' "$stage/thumbs"/*; pf_own "$stage"
  mv "$stage/thumbs" "$INBOX/thumbs"
  bench_wait_rows "$total" "$PF_BENCH_TIMEOUT" >/dev/null
  local rows
  rows=$(bsql -c "SELECT count(*) FROM photofactory.media_assets")
  [ "$rows" = "$total" ] || { bench_fail thumbnails "$rows of $total files ingested"; bench_cluster_down; return 1; }
  # One thumbnailer, one libvips thread: one core.
  pf_psql "$CL" -d postgres -X -q -v ON_ERROR_STOP=1 -c "ALTER SYSTEM SET photofactory.thumbnailer_workers = 1" \
    -c "ALTER SYSTEM SET photofactory.thumbnailer_threads = 1" -c "SELECT pg_reload_conf()" >/dev/null
  local i left
  for i in $(seq 1 $((PF_BENCH_TIMEOUT * 5))); do
    left=$(bench_thumb_pending '%')
    [ "$left" = 0 ] && break
    sleep 0.2
  done
  [ "$left" = 0 ] || { bench_fail thumbnails "warm-up: $left not thumbnailed"; bench_cluster_down; return 1; }
  T_PID=$(bsql -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'photofactory thumbnailer'")
  local errors
  errors=$(bsql -c "SELECT count(*) FROM photofactory.media_assets WHERE has_errors")
  [ "$errors" = 0 ] || bench_fail thumbnails "$errors assets with errors after the warm-up"
  sync

  local jpegs=("$files"/IMG_J*.jpg) heics=("$files"/IMG_H*.heic)
  cat "$files"/* >/dev/null   # baselines read page-cached files, like the worker
  bench_thumb_worker jpeg 'IMG\_J%' "${#jpegs[@]}" || true
  bench_thumb_baseline jpeg vips "${jpegs[@]}"
  bench_thumb_baseline jpeg convert "${jpegs[@]:0:$PF_BENCH_THUMB_CONVERT}"
  bench_thumb_worker heic 'IMG\_H%' "${#heics[@]}" || true
  bench_thumb_baseline heic vips "${heics[@]}"
  bench_thumb_worker video 'VID\_V%' "$PF_BENCH_THUMB_VIDEOS" || true
  bench_thumb_worker big 'IMG\_BIG%' 1 || true
  bench_record section=thumbnails_rss kind=all \
    big_megapixels="$(vipsheader -f width "$files/IMG_BIG.jpg" | awk -v h="$(vipsheader -f height "$files/IMG_BIG.jpg")" '{printf "%.1f", $1 * h / 1e6}')"
  bench_cluster_down
  rm -rf "$T_OUT" "${RUN:?}/thumbnails"
  [ "$PF_BENCH_KEEP_CORPUS" = 1 ] || rm -rf "$T_DIR"
}
