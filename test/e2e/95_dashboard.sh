#!/usr/bin/env bash
# End to end: the dashboard served by the extension, checked with a real
# headless browser (Debian's chromium) and hostile HTTP. Lights follow the
# seed's thresholds; a file named like markup renders as text; thumbnails are
# served only through thumbnail_path(); curation needs the token and a CSRF
# token; malformed requests, huge headers, slow clients and 1,000 connections
# leave the worker up and answering. A screenshot is kept as an artefact.
source "$(dirname "$0")/lib/assert.sh"
port=$((40000 + $(cat "$PF_TEST_RUN/port") % 1000 * 2))
base=http://127.0.0.1:$port
artefacts=${PF_ARTIFACTS:-/tmp/photofactory-artifacts}
mkdir -p "$artefacts"
browser=$(command -v chromium || command -v chromium-browser || true)
token=dashboard-test-token-$RANDOM$RANDOM

cleanup() {
  sql "ALTER SYSTEM RESET photofactory.dashboard_listen" >/dev/null 2>&1
  sql "ALTER SYSTEM RESET photofactory.dashboard_auth" >/dev/null 2>&1
  sql "SELECT pg_reload_conf()" >/dev/null 2>&1
  sql "DELETE FROM photofactory.system_status WHERE service_name IN ('e2e-yellow', 'e2e-red')" >/dev/null 2>&1
  sql "DELETE FROM photofactory.system_status_history WHERE service_name LIKE 'e2e-up-%'" >/dev/null 2>&1
}
trap cleanup EXIT
reload() { sql "SELECT pg_reload_conf()" >/dev/null; }
code() { curl -s -o /dev/null -w '%{http_code}' --path-as-is "$@"; }
dashboard_pid() { sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'photofactory dashboard'"; }
chrome() {  # chrome OUT URL: the DOM after load, console messages in OUT.log
  timeout 60 "$browser" --headless=new --no-sandbox --disable-gpu --no-first-run --disable-extensions \
    --user-data-dir="$PF_TEST_RUN/chromium" --enable-logging=stderr --v=0 --virtual-time-budget=3000 \
    --dump-dom "$2" >"$1" 2>"$1.log"
}

sql "ALTER SYSTEM SET photofactory.thumbnailer_workers = 1" >/dev/null
sql "ALTER SYSTEM SET photofactory.dashboard_listen = '127.0.0.1:$port'" >/dev/null; reload
ok "dashboard serving on $base" wait_for 30 bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' $base/) = 200 ]"
ok "dashboard heartbeats as service 'dashboard'" wait_for 30 sql_is \
  "SELECT status FROM photofactory.system_status WHERE service_name = 'dashboard' AND current_task LIKE 'Dashboard: serving%'" OK
pid=$(dashboard_pid)

# A photo with a hostile name, a thumbnail if the thumbnailer exists.
evil='<img src=x onerror=alert(1)>.jpg'
stage=$(mktemp -d "$PF_TEST_RUN/stage95.XXXX")
convert -size 320x240 xc:teal "$stage/$evil"
exiftool -q -overwrite_original "-DateTimeOriginal=2024:05:05 10:00:00" "$stage/$evil"
touch -d '-1 minute' "$stage/$evil"; pf_own "$stage"; mkdir -p "$inbox/d95"; pf_own "$inbox/d95"
mv "$stage/$evil" "$inbox/d95/"
ok "hostile-named photo ingested" wait_for 30 sql_is \
  "SELECT count(*) FROM photofactory.media_assets WHERE original_name = '$evil'" 1
id=$(sql "SELECT id FROM photofactory.media_assets WHERE original_name = '$evil'")

# Lights: one service 90 s old (yellow), one 200 s (red); the trigger stamps
# heartbeats with now(), so write the rows with triggers off.
sql "SET session_replication_role = replica;
     INSERT INTO photofactory.system_status (service_name, status, current_task, last_heartbeat, updated_at) VALUES
       ('e2e-yellow', 'OK', 'ninety seconds ago', now() - interval '90 seconds', now()),
       ('e2e-red', 'WARNING', 'two hundred seconds ago', now() - interval '200 seconds', now())" >/dev/null

if [ -n "$browser" ]; then
  chrome "$PF_TEST_RUN/health.html" "$base/"
  ok "health page loads in Chromium" grep -q 'data-service="dashboard"' "$PF_TEST_RUN/health.html"
  ok "a 90 s old heartbeat is yellow" grep -q 'data-service="e2e-yellow" data-colour="yellow"' "$PF_TEST_RUN/health.html"
  ok "a 200 s old heartbeat is red" grep -q 'data-service="e2e-red" data-colour="red"' "$PF_TEST_RUN/health.html"
  ok "a fresh heartbeat is green" grep -q 'data-service="dashboard" data-colour="green"' "$PF_TEST_RUN/health.html"
  chrome "$PF_TEST_RUN/recent.html" "$base/recent"
  ok "the recent grid lists the photo" grep -q "/asset/$id" "$PF_TEST_RUN/recent.html"
  ok "the hostile file name renders as text" grep -qF '&lt;img src=x onerror=alert(1)&gt;.jpg' "$PF_TEST_RUN/recent.html"
  ok "and never as an element" bash -c "! grep -q '<img src=\"x\"' '$PF_TEST_RUN/recent.html'"
  chrome "$PF_TEST_RUN/asset.html" "$base/asset/$id"
  chrome "$PF_TEST_RUN/factory.html" "$base/factory"
  ok "factory page shows the queues" grep -q '<td>thumbnails</td>' "$PF_TEST_RUN/factory.html"
  ok "no console errors or CSP violations on any page" bash -c \
    "! grep -hiE 'CONSOLE.*(error|Uncaught)|Refused to' '$PF_TEST_RUN'/health.html.log '$PF_TEST_RUN'/recent.html.log '$PF_TEST_RUN'/asset.html.log '$PF_TEST_RUN'/factory.html.log"
  timeout 60 "$browser" --headless=new --no-sandbox --disable-gpu --no-first-run --user-data-dir="$PF_TEST_RUN/chromium" \
    --window-size=1280,900 --screenshot="$artefacts/dashboard-health.png" "$base/" >/dev/null 2>&1
  ok "screenshot kept as an artefact ($artefacts/dashboard-health.png)" test -s "$artefacts/dashboard-health.png"
else
  is "chromium missing" "chromium installed" "headless browser available"
fi

# Thumbnails: served only as thumbnail_path() names them; nothing else.
if [ "$(sql "SELECT to_regprocedure('photofactory.thumbnail_path(uuid,text)') IS NOT NULL")" = t ]; then
  if wait_for 60 sql_is "SELECT is_thumbnailed FROM photofactory.media_assets WHERE id = '$id'" t; then
    is "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$base/thumb/$id/thumbnail")" "200 image/webp" "thumbnail served as WebP"
    ok "the grid shows the thumbnail" bash -c "curl -s $base/recent | grep -q 'src=\"/thumb/$id/thumbnail\"'"
  else
    is "not thumbnailed" "thumbnailed" "the thumbnailer made the renditions"
  fi
fi
is "$(code "$base/thumb/$id/../../../../etc/passwd")" 404 "path traversal through the thumbnail route: 404"
is "$(code "$base/thumb/..%2f..%2fetc%2fpasswd/thumbnail")" 404 "encoded traversal: 404"
is "$(code "$base/static/../../etc/passwd")" 404 "traversal through /static: 404"
is "$(code "$base/thumb/00000000-0000-0000-0000-000000000000/thumbnail")" 404 "unknown asset: 404"

# Machine-readable endpoints.
ok "/api/status is JSON listing the services" bash -c \
  "curl -s $base/api/status | perl -MJSON::PP -e 'my \$j = decode_json(join q(), <STDIN>); exit !(grep { \$_->{service} eq q(dashboard) } @{\$j->{services}})'"
ok "/metrics in Prometheus text format" bash -c \
  "curl -s $base/metrics | grep -q '^photofactory_service_up{service=\"dashboard\"} 1$'"
# Uptime: the worker merges 3-minute slots from 12-hour chunks of history, one
# query per turn of its loop; its figures must equal the single statement it
# replaced, run at the same moment (uptime_at). Two services of our own with
# static history: one from 8 days back (the 7-day window cuts it) with ERROR
# and WARNING episodes, one with nothing in the last day (d1 null).
sql "INSERT INTO photofactory.system_status_history (service_name, status, current_task, heartbeat_timestamp)
     SELECT 'e2e-up-a', CASE WHEN g % 700 < 9 THEN 'ERROR' WHEN g % 300 < 3 THEN 'WARNING' ELSE 'OK' END, 'beat ' || g,
            now() - interval '8 days' + g * interval '30 seconds' + interval '0.7 seconds'
       FROM generate_series(0, 8 * 2880 - 4) g
     UNION ALL
     SELECT 'e2e-up-b', CASE WHEN g % 100 < 10 THEN 'ERROR' ELSE 'OK' END, 'beat ' || g,
            now() - interval '3 days' + g * interval '31 seconds'
       FROM generate_series(0, 2700) g" >/dev/null
metric() { curl -s "$base/metrics" | sed -n "s/^$1 //p"; }
runs=$(metric 'photofactory_dashboard_refreshes_total{stats="slow"}')
reload
ok "a forced slow refresh completes" wait_for 30 bash -c \
  "[ \"\$(curl -s $base/metrics | sed -n 's/^photofactory_dashboard_refreshes_total{stats=\"slow\"} //p')\" -gt '${runs:-0}' ]"
api=$(curl -s "$base/api/status")
at=$(perl -MJSON::PP -e 'print decode_json(join q(), <STDIN>)->{uptime_at} // q()' <<<"$api")
ok "/api/status says when its uptime was computed ($at)" test -n "$at"
got=$(perl -MJSON::PP -e 'for (@{decode_json(join q(), <STDIN>)->{uptime}}) { next unless $_->{service} =~ /^e2e-up-/;
        printf "%s %s %s\n", $_->{service}, map { defined $_ ? sprintf("%.12f", $_) : "null" } $_->{d1}, $_->{d7} }' <<<"$api")
want=$(sql "WITH s AS (
    SELECT service_name, floor(date_part('epoch', heartbeat_timestamp) / 180) AS slot,
           bool_or(status <> 'ERROR') AS good, min(heartbeat_timestamp) AS first
      FROM photofactory.system_status_history
     WHERE heartbeat_timestamp > '$at'::timestamptz - interval '7 days' AND service_name LIKE 'e2e-up-%'
     GROUP BY 1, 2
), up AS (
    SELECT service_name,
           count(*) FILTER (WHERE good AND first > '$at'::timestamptz - interval '1 day') AS good1,
           count(*) FILTER (WHERE good) AS good7,
           min(first) FILTER (WHERE first > '$at'::timestamptz - interval '1 day') AS first1, min(first) AS first7
      FROM s GROUP BY service_name
)
SELECT service_name || ' ' ||
       CASE WHEN first1 IS NULL THEN 'null' ELSE to_char(LEAST(1.0, good1 /
            GREATEST(1.0, ceil(date_part('epoch', '$at'::timestamptz - first1) / 180))), 'FM0.000000000000') END || ' ' ||
       to_char(LEAST(1.0, good7 / GREATEST(1.0, ceil(date_part('epoch', '$at'::timestamptz - first7) / 180))), 'FM0.000000000000')
  FROM up ORDER BY service_name")
echo "# uptime (service d1 d7): $(tr '\n' ';' <<<"$got")"
is "$got" "$want" "uptime per service equals the single-statement computation at the same moment"
ok "some slots were ERROR (uptime below 1) and one service has no last day" bash -c "grep -q '^e2e-up-a 0.9' <<<'$got' && grep -q '^e2e-up-b null 0.' <<<'$got'"
# The timeline (latest 50 changes of a slot's worst status, all services) as
# the health page shows it, our services' rows against the single statement.
got=$(curl -s "$base/" | perl -CS -Mutf8 -ne 'binmode STDOUT, ":utf8";
  print "$1|$2|$3|$4\n" while m{<tr><td>([^<]*)</td><td>(e2e-up-[ab])</td><td>([^<]*)</td><td>([^<]*)</td></tr>}g')
want=$(sql "WITH s AS MATERIALIZED (
    SELECT service_name, floor(date_part('epoch', heartbeat_timestamp) / 180) AS slot,
           max(CASE status WHEN 'ERROR' THEN 2 WHEN 'WARNING' THEN 1 ELSE 0 END) AS worst, min(heartbeat_timestamp) AS first
      FROM photofactory.system_status_history
     WHERE heartbeat_timestamp > '$at'::timestamptz - interval '7 days' AND heartbeat_timestamp <= '$at'::timestamptz
     GROUP BY 1, 2
), c AS (
    SELECT *, lag(worst) OVER (PARTITION BY service_name ORDER BY slot) AS prev FROM s
), shown AS (
    SELECT c.service_name, c.prev, c.worst, x.heartbeat_timestamp AS ts, x.current_task
      FROM (SELECT * FROM c WHERE prev IS DISTINCT FROM worst ORDER BY first DESC LIMIT 50) c
      CROSS JOIN LATERAL (SELECT h.heartbeat_timestamp, h.current_task FROM photofactory.system_status_history h
           WHERE h.service_name = c.service_name AND h.heartbeat_timestamp >= c.first
             AND h.heartbeat_timestamp < c.first + interval '3 minutes'
             AND h.status = (ARRAY['OK', 'WARNING', 'ERROR'])[c.worst + 1]
           ORDER BY h.heartbeat_timestamp LIMIT 1) x
)
SELECT to_char(ts, 'YYYY-MM-DD HH24:MI:SS') || '|' || service_name || '|' ||
       COALESCE((ARRAY['OK', 'WARNING', 'ERROR'])[prev + 1], '(first)') || ' → ' || (ARRAY['OK', 'WARNING', 'ERROR'])[worst + 1]
       || '|' || current_task
  FROM shown WHERE service_name LIKE 'e2e-up-%' ORDER BY ts DESC")
echo "# timeline rows of e2e-up-*: $(wc -l <<<"$got")"
# The 50 rows are shared with the cluster's own services, whose start-up
# changes (a dozen on a loaded machine) take some of them.
ok "the timeline shows our services' changes" test "$(wc -l <<<"$got")" -ge 25
is "$got" "$want" "the health page's timeline equals the single-statement computation at the same moment"
ok "the slow refresh ran in steps (its longest step < the whole)" perl -e '
  my %m = map { /^(\S+) (\S+)$/ ? ($1, $2) : () } split /\n/, $ARGV[0];
  my ($step, $all) = map { $m{"photofactory_dashboard_refresh_${_}{stats=\"slow\"}"} } qw(step_seconds seconds);
  exit !(defined $step && $step > 0 && $step < $all)' "$(curl -s "$base/metrics")"
sql "DELETE FROM photofactory.system_status_history WHERE service_name LIKE 'e2e-up-%'" >/dev/null

is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/")" 405 "POST to a read-only page: 405"
ok "strict Content-Security-Policy on pages" bash -c \
  "curl -sI $base/ | grep -qi \"^content-security-policy: default-src 'none'\""

# Curation: needs the token and a CSRF token from the page.
form() { curl -s -H "Authorization: Bearer $token" "$base/asset/$id" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p'; }
is "$(code -X POST -d csrf=x "$base/asset/$id/curate")" 401 "curation without the token: 401"
sql "ALTER SYSTEM SET photofactory.dashboard_auth = '$token'" >/dev/null; reload; sleep 1.5
csrf=$(form)
ok "the signed-in asset page carries a CSRF token" test -n "$csrf"
is "$(code -X POST -H "Authorization: Bearer $token" -d "csrf=0000$csrf" "$base/asset/$id/curate")" 403 "wrong CSRF token: 403"
is "$(code -X POST -H "Authorization: Bearer $token" -H "Origin: http://evil.example" -d "csrf=$csrf" "$base/asset/$id/curate")" 403 \
  "foreign Origin: 403"
is "$(sql "SELECT is_curated FROM photofactory.media_assets WHERE id = '$id'")" f "nothing written by refused requests"
is "$(code -X POST -u "me:$token" -d "csrf=$csrf" "$base/asset/$id/curate")" 200 "curation with Basic auth and the CSRF token"
is "$(sql "SELECT is_curated AND curated_at IS NOT NULL FROM photofactory.media_assets WHERE id = '$id'")" t "marked curated"
ok "the dashboard never logs the token (PostgreSQL's own reload line aside)" bash -c \
  "! grep -v 'parameter \"photofactory.dashboard_auth\" changed to' '$PF_TEST_RUN/log/server.log' | grep -q -- '$token'"

# Hostile HTTP: the worker stays up and answers.
perl "$(dirname "$0")/lib/http-abuse.pl" "$port" malformed >"$PF_TEST_RUN/malformed.txt"
ok "malformed requests get 4xx answers or are closed" bash -c "! grep -q ' 200 ' '$PF_TEST_RUN/malformed.txt' && ! grep -q timeout '$PF_TEST_RUN/malformed.txt'"
huge=$(perl "$(dirname "$0")/lib/http-abuse.pl" "$port" huge)
ok "a 256 kB header is refused ($huge)" bash -c "[[ '$huge' =~ ^(HTTP/1\\.[01]\ 4[0-9][0-9]|closed) ]]"
slow=$(perl "$(dirname "$0")/lib/http-abuse.pl" "$port" slowloris)
ok "50 slowloris clients never stall a normal request ($slow)" bash -c "[[ '$slow' =~ failed=0$ ]] && [ \$(echo '$slow' | sed 's/worst_ms=\\([0-9]*\\).*/\\1/') -lt 2000 ]"
flood=$( (ulimit -n 4096; perl "$(dirname "$0")/lib/http-abuse.pl" "$port" flood) )
echo "# flood: $flood"
ok "after 1,000 concurrent connections the dashboard answers" wait_for 20 bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' $base/api/status) = 200 ]"
is "$(dashboard_pid)" "$pid" "the same worker process throughout (never crashed or restarted)"

# Settings: a new port without a restart; anything but loopback needs the token.
port2=$((port + 1))
sql "ALTER SYSTEM SET photofactory.dashboard_listen = '127.0.0.1:$port2'" >/dev/null; reload
ok "listen address changed on SIGHUP" wait_for 20 bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port2/) = 200 ]"
is "$(dashboard_pid)" "$pid" "without restarting the worker"
sql "ALTER SYSTEM RESET photofactory.dashboard_auth" >/dev/null
sql "ALTER SYSTEM SET photofactory.dashboard_listen = '0.0.0.0:$port2'" >/dev/null; reload
ok "beyond loopback without a token: refused, with an ERROR saying why" wait_for 20 sql_is \
  "SELECT count(*) FROM photofactory.system_status WHERE service_name = 'dashboard' AND status = 'ERROR'
      AND current_task LIKE '%refusing to listen on 0.0.0.0:$port2 without photofactory.dashboard_auth%'" 1
ok "and nothing listens there" bash -c "! curl -s -m 2 -o /dev/null http://127.0.0.1:$port2/"

pf_summary
