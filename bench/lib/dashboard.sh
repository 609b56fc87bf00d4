# The dashboard phase (issue #17), run on the ledger phase's cluster and ledger
# (after the geocoder phase when that runs): a month of heartbeats at the
# services' real rate (bench/lib/dashboard-load.sql), places for the geocoded
# assets, renditions on disk for a few assets; then the dashboard is turned on
# and every route it serves is requested N times in a row over one keep-alive
# connection on loopback. Server time is the worker's own Server-Timing
# header (from the access handler's entry to the response queued: routing,
# queries, rendering); curl's time to first byte is recorded beside it. The
# loop's refreshes of its cached figures (every 30 s / 5 min, and on reload)
# run in steps that hold up any request arriving meanwhile: they are timed
# too (whole refresh and longest step, from /metrics, forced with
# pg_reload_conf()), with a prober's requests during them. Sourced by bench/run.sh.

bench_dashboard_defaults() {
  if [ "${quick:-0}" = 1 ]; then
    : "${PF_BENCH_DASHBOARD_DAYS:=1}" "${PF_BENCH_DASHBOARD_REQUESTS:=5}" "${PF_BENCH_DASHBOARD_REFRESHES:=2}"
  else
    : "${PF_BENCH_DASHBOARD_DAYS:=30}" "${PF_BENCH_DASHBOARD_REQUESTS:=50}" "${PF_BENCH_DASHBOARD_REFRESHES:=10}"
  fi
  : "${PF_BENCH_DASHBOARD_PORT:=$((PF_BENCH_PORT + 10000))}"
  export PF_BENCH_DASHBOARD_DAYS PF_BENCH_DASHBOARD_REQUESTS PF_BENCH_DASHBOARD_REFRESHES PF_BENCH_DASHBOARD_PORT
}

bench_dashboard_phase() {
  bench_dashboard_defaults
  local days=$PF_BENCH_DASHBOARD_DAYS n=$PF_BENCH_DASHBOARD_REQUESTS port=$PF_BENCH_DASHBOARD_PORT
  local base=http://127.0.0.1:$port t0 t1 rows
  pf_log "dashboard: $days days of heartbeats, every route x $n on the ${PF_BENCH_LEDGER_ROWS}-asset ledger"
  t0=$EPOCHREALTIME
  bsql -v days="$days" <"$BENCH_LIB/dashboard-load.sql" || { bench_fail dashboard "loading heartbeats failed"; return 1; }
  t1=$EPOCHREALTIME
  rows=$(bsql -c "SELECT count(*) FROM photofactory.system_status_history")

  # The assets the routes show: a deep page starts below the middle of the
  # ledger; the photo page is a geocoded one; curation takes the newest
  # uncurated ones; renditions are written for thumbnailed assets.
  local mid photo thumb
  mid=$(bsql -c "SELECT id FROM photofactory.media_assets ORDER BY ingested_at, id
                 OFFSET (SELECT count(*) / 2 FROM photofactory.media_assets) LIMIT 1")
  photo=$(bsql -c "SELECT a.id FROM photofactory.media_assets a JOIN photofactory.asset_places p ON p.asset_id = a.id
                   WHERE a.is_thumbnailed ORDER BY a.ingested_at DESC, a.id DESC LIMIT 1")
  thumb=$photo
  local tpath id
  while read -r id tpath; do
    mkdir -p "$(dirname "$tpath")" && head -c 6000 /dev/urandom >"$tpath" &&
      head -c 60000 /dev/urandom >"${tpath%-thumb.webp}-preview.jpg"
  done < <(bsql -F' ' -c "SELECT a.id, photofactory.thumbnail_path(a.id, 'thumbnail') FROM photofactory.media_assets a
                           WHERE a.is_thumbnailed ORDER BY a.ingested_at DESC, a.id DESC LIMIT 48")
  [ -d "$STORAGE/Thumbnails" ] && pf_own "$STORAGE/Thumbnails"

  # Curation needs the token; pages on loopback do not ask for it.
  local token
  token=$(openssl rand -hex 16)
  pf_psql "$CL" -d postgres -X -q -v ON_ERROR_STOP=1 \
    -c "ALTER SYSTEM SET photofactory.dashboard_listen = '127.0.0.1:$port'" \
    -c "ALTER SYSTEM SET photofactory.dashboard_auth = '$token'" -c "SELECT pg_reload_conf()" >/dev/null ||
    { bench_fail dashboard "enabling the dashboard failed"; return 1; }
  local i up=""
  for i in $(seq 1 150); do
    up=$(curl -s -m 2 "$base/metrics" | sed -n 's/^photofactory_dashboard_refreshes_total{stats="slow"} //p')
    [ -n "$up" ] && [ "$up" -ge 1 ] && break
    sleep 0.2
  done
  [ -n "$up" ] && [ "$up" -ge 1 ] || { bench_fail dashboard "the dashboard did not serve /metrics on $base"; return 1; }

  # route name, path: N GETs over one connection (curl reuses it for every URL).
  local routes=(
    "health /"
    "factory /factory"
    "recent_first /recent"
    "recent_deep /recent?before=$mid"
    "photo /asset/$photo"
    "api_status /api/status"
    "metrics /metrics"
    "thumbnail /thumb/$thumb/thumbnail"
    "preview /thumb/$thumb/preview"
  )
  local r name path urls out
  for r in "${routes[@]}"; do
    read -r name path <<<"$r"
    urls=()
    for i in $(seq 0 "$n"); do urls+=(-o /dev/null "$base$path"); done   # the first one warms up, not counted
    out=$(curl -s -w '%{http_code} %{time_starttransfer} %header{server-timing}\n' "${urls[@]}")
    bench_dashboard_record "$name" "$path" "$out"
  done

  # Curation: a POST per asset (the form's CSRF token is per asset), each on
  # an uncurated one; the asset page fetched before it is not timed.
  local ids csrf lines=""
  mapfile -t ids < <(bsql -c "SELECT id FROM photofactory.media_assets WHERE NOT is_curated
                               ORDER BY ingested_at DESC, id DESC LIMIT $((n + 1))")
  for id in "${ids[@]}"; do
    csrf=$(curl -s -H "Authorization: Bearer $token" "$base/asset/$id" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p')
    lines+=$(curl -s -o /dev/null -H "Authorization: Bearer $token" -H "Origin: http://127.0.0.1:$port" \
               --data "csrf=$csrf" -w '%{http_code} %{time_starttransfer} %header{server-timing}\n' \
               "$base/asset/$id/curate")$'\n'
  done
  bench_dashboard_record curation "/asset/<id>/curate (POST)" "$lines"
  local curated
  curated=$(bsql -c "SELECT count(*) FROM photofactory.media_assets WHERE is_curated AND id = ANY ('{$(IFS=,; echo "${ids[*]}")}'::uuid[])")

  # The cached figures' refreshes, forced by reloads. They run in steps, one
  # query per turn of the loop: /metrics gives each refresh's total work and
  # its longest step (the longest a request can wait behind it). Meanwhile a
  # prober sends requests back to back over keep-alive connections; the time
  # to first byte of each is the wait behind a step plus its own ~1 ms.
  local probe=$RUN/dashboard-probe.txt stop=$RUN/dashboard-probe.stop probe_pid
  rm -f "$stop"
  (
    urls=(); for i in $(seq 1 20); do urls+=(-o /dev/null "$base/api/status"); done
    while [ ! -e "$stop" ]; do curl -s -w '%{time_starttransfer}\n' "${urls[@]}"; done
  ) >"$probe" &
  probe_pid=$!
  local fast="" slow="" fast_step="" slow_step="" before after m
  for i in $(seq 1 "$PF_BENCH_DASHBOARD_REFRESHES"); do
    before=$(curl -s "$base/metrics" | sed -n 's/^photofactory_dashboard_refreshes_total{stats="slow"} //p')
    pf_psql "$CL" -d postgres -X -q -c "SELECT pg_reload_conf()" >/dev/null
    for _ in $(seq 1 100); do
      m=$(curl -s "$base/metrics")
      after=$(sed -n 's/^photofactory_dashboard_refreshes_total{stats="slow"} //p' <<<"$m")
      [ -n "$after" ] && [ "$after" -gt "$before" ] && break
      sleep 0.1
    done
    fast+=" $(sed -n 's/^photofactory_dashboard_refresh_seconds{stats="fast"} //p' <<<"$m")"
    slow+=" $(sed -n 's/^photofactory_dashboard_refresh_seconds{stats="slow"} //p' <<<"$m")"
    fast_step+=" $(sed -n 's/^photofactory_dashboard_refresh_step_seconds{stats="fast"} //p' <<<"$m")"
    slow_step+=" $(sed -n 's/^photofactory_dashboard_refresh_step_seconds{stats="slow"} //p' <<<"$m")"
  done
  touch "$stop"; wait "$probe_pid"
  local probe_ms
  probe_ms=$(awk 'NF { printf "%s%.3f", (n++ ? " " : ""), $1 * 1000 }' "$probe")
  bench_record section=dashboard_load days="$days" history_rows="$rows" t_start="$t0" t_end="$t1" \
    curated="$curated" curation_requests="${#ids[@]}" refresh_fast_s="${fast# }" refresh_slow_s="${slow# }" \
    refresh_fast_step_s="${fast_step# }" refresh_slow_step_s="${slow_step# }" probe_ttfb_ms="$probe_ms"
}

# bench_dashboard_record NAME PATH CURL_LINES: drops the first (warm-up) line.
bench_dashboard_record() {
  local name=$1 path=$2 codes="" server="" ttfb="" code t st first=1
  while read -r code t st; do
    [ -n "$code" ] || continue
    if [ "$first" = 1 ]; then first=0; continue; fi
    codes+=" $code"
    ttfb+=" $(awk -v t="$t" 'BEGIN { printf "%.3f", t * 1000 }')"
    server+=" $(sed -n 's/.*app;dur=\([0-9.]*\).*/\1/p' <<<"$st")"
  done <<<"$3"
  bench_record section=dashboard route="$name" path="$path" codes="${codes# }" server_ms="${server# }" ttfb_ms="${ttfb# }"
}
