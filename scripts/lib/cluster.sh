# Throwaway PostgreSQL clusters for the demo and the tests.
# Source this file, then:
#   pf_cluster_init DIR PORT [EXTRA_CONF_LINES]   initdb DIR/data (socket in DIR/sock)
#   pf_cluster_start DIR / pf_cluster_stop DIR    (stop is safe to call twice)
#   pf_psql DIR [psql args...]                    psql as the cluster owner
# PostgreSQL refuses to run as root, so as root everything runs as the
# unprivileged `postgres` account (PF_CLUSTER_USER) through runuser.

PF_PGBIN=${PF_PGBIN:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}
PF_CLUSTER_USER=${PF_CLUSTER_USER:-postgres}

pf_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    # From /: the caller's folder may be closed to that user (all paths are absolute).
    (cd / && runuser -u "$PF_CLUSTER_USER" -- "$@")
  else
    "$@"
  fi
}

# Give a directory to the cluster owner (only meaningful as root).
pf_own() {
  if [ "$(id -u)" -eq 0 ]; then chown -R "$PF_CLUSTER_USER": "$@"; fi
}

pf_cluster_init() {
  local dir=$1 port=$2 extra=${3:-}
  mkdir -p "$dir/sock" "$dir/log"
  pf_own "$dir"
  chmod 755 "$dir"
  pf_as_owner "$PF_PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >"$dir/log/initdb.log" 2>&1 || {
      cat "$dir/log/initdb.log" >&2; return 1; }
  pf_as_owner tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
# --- throwaway cluster written by scripts/lib/cluster.sh ---
port = $port
listen_addresses = ''
unix_socket_directories = '$dir/sock'
logging_collector = off
log_line_prefix = '%m [%p] %b '
fsync = on
max_worker_processes = 16
$extra
CONF
  echo "$port" >"$dir/port"
}

pf_cluster_start() {
  local dir=$1
  pf_as_owner "$PF_PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log/server.log" -w -t 60 start >/dev/null || {
    echo "cluster failed to start; server log:" >&2; tail -50 "$dir/log/server.log" >&2; return 1; }
}

pf_cluster_stop() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] || return 0
  pf_as_owner "$PF_PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
    pf_as_owner "$PF_PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

pf_psql() {
  local dir=$1; shift
  pf_as_owner psql -X -h "$dir/sock" -p "$(cat "$dir/port")" -U postgres "$@"
}
