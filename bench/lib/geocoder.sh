# The geocoder phase (issue #16), run on the ledger phase's cluster and ledger.
# Two timed passes of the geocoder worker end to end (claim, k-d tree lookup,
# asset_places write, mark) until the queue is empty:
#   first  -- a library whose places arrive after its photos: every asset with
#             a location is pending (regeocode_all before any place is loaded,
#             then VACUUM, untimed) and has no asset_places row yet; the clock
#             starts when load-places.sh has committed the places and the
#             worker is woken (pg_reload_conf), so the k-d tree build counts;
#   re     -- regeocode_all() of everything again: the same assets with their
#             asset_places rows present (the INSERT ... ON CONFLICT updates).
# The 20,000/s target is judged on the first pass, the re-geocoding pass is
# shown beside it. Then, on the same data in the same run, Immich's lookup: one
# `earth_box(...) @> ll_to_earth(...) ORDER BY earth_distance(...) LIMIT 1`
# query per asset over a GiST index (cube + earthdistance, contrib), from a
# PL/pgSQL loop with a cached plan -- no round trips, no writes: the most
# favourable setting for it. Sourced by bench/run.sh after bench.sh.

# The geocoder's queue, counted on its partial index.
geocoder_queued() {
  bsql -c "SELECT count(*) FROM photofactory.media_assets WHERE is_ingested AND NOT is_geocoded AND location IS NOT NULL"
}

# geocoder_drain START WHAT: waits until the queue is empty, reading its count
# every 50 ms; the end is the first read that finds it empty (printed as an
# $EPOCHREALTIME). Fails after PF_BENCH_TIMEOUT seconds from START.
geocoder_drain() {
  local start=$1 what=$2 left
  while :; do
    left=$(geocoder_queued)
    [ "$left" = 0 ] && break
    if (( ${EPOCHREALTIME%.*} - ${start%.*} > PF_BENCH_TIMEOUT )); then
      bench_fail geocoder "$what timed out ($left left)"; return 1
    fi
    sleep 0.05
  done
  echo "$EPOCHREALTIME"
}

bench_geocoder_phase() {
  local sample=${PF_BENCH_GEOCODER_SAMPLE:-20000} places_dir t0 t1
  pf_log "geocoder: places, worker throughput, Immich-style earth_distance lookups"
  places_dir=$(bash "$PF_ROOT/scripts/fetch-places.sh") || { bench_fail geocoder "fetch-places.sh failed"; return 1; }
  # Every located asset pending, no place loaded yet (the geocoder idles).
  local first_queued f0 f1
  bsql -c "SELECT photofactory.regeocode_all()" >/dev/null
  first_queued=$(geocoder_queued)
  bsql -c "VACUUM photofactory.media_assets" || { bench_fail geocoder "VACUUM failed"; return 1; }
  t0=$EPOCHREALTIME
  PF_PLACES_DIR=$places_dir bash "$PF_ROOT/scripts/load-places.sh" -h "$CL/sock" -p "$(cat "$CL/port")" -U postgres \
    -d "$BENCH_DB" >/dev/null || { bench_fail geocoder "load-places.sh failed"; return 1; }
  t1=$EPOCHREALTIME
  bsql -c "SELECT pg_reload_conf()" >/dev/null
  f0=$EPOCHREALTIME
  local places
  places=$(bsql -c "SELECT place_count FROM photofactory.places_dataset")
  # First pass.
  f1=$(geocoder_drain "$f0" "first geocoding") || return 1

  # Timed: everything again.
  local w0 w1 queued
  queued=$(bsql -c "SELECT photofactory.regeocode_all()")
  w0=$EPOCHREALTIME
  w1=$(geocoder_drain "$w0" "regeocoding") || return 1
  local named
  named=$(bsql -c "SELECT count(*) FILTER (WHERE place_id IS NOT NULL) FROM photofactory.asset_places")

  # Immich-style lookups over the same places and the same locations.
  bsql -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS cube" \
       -c "CREATE EXTENSION IF NOT EXISTS earthdistance" \
       -c "CREATE INDEX IF NOT EXISTS bench_places_earth ON photofactory.places USING gist (ll_to_earth(lat, lon))" \
       -c "ANALYZE photofactory.places" || { bench_fail geocoder "earthdistance set-up failed"; return 1; }
  local immich
  immich=$(bsql -v sample="$sample" 2>&1 <<'SQL'
SELECT set_config('pfbench.sample', :'sample', false) \gset
DO $bench$
DECLARE
    r record;
    hit integer;
    n integer := 0;
    found_n integer := 0;
    t0 timestamptz := clock_timestamp();
BEGIN
    FOR r IN SELECT (location ->> 'lat')::float8 AS lat, (location ->> 'lon')::float8 AS lon
               FROM photofactory.media_assets WHERE location IS NOT NULL
              LIMIT current_setting('pfbench.sample')::int LOOP
        hit := NULL;
        SELECT p.id INTO hit FROM photofactory.places AS p
         WHERE earth_box(ll_to_earth(r.lat, r.lon), 25000) @> ll_to_earth(p.lat, p.lon)
         ORDER BY earth_distance(ll_to_earth(r.lat, r.lon), ll_to_earth(p.lat, p.lon)) LIMIT 1;
        n := n + 1;
        IF hit IS NOT NULL THEN found_n := found_n + 1; END IF;
    END LOOP;
    RAISE NOTICE 'immich % % %', n, found_n, extract(epoch FROM clock_timestamp() - t0);
END
$bench$;
SQL
)
  local in_n in_found in_s
  read -r in_n in_found in_s <<<"$(sed -n 's/.*NOTICE:  immich \([0-9]*\) \([0-9]*\) \([0-9.]*\).*/\1 \2 \3/p' <<<"$immich")"
  [ -n "$in_s" ] || { bench_fail geocoder "earth_distance loop failed: $immich"; return 1; }
  bench_record section=geocoder places="$places" load_t_start="$t0" load_t_end="$t1" queued="$queued" \
    named="$named" t_start="$w0" t_end="$w1" first_queued="$first_queued" first_t_start="$f0" first_t_end="$f1" workers=1 immich_lookups="$in_n" immich_found="$in_found" immich_s="$in_s"
}
