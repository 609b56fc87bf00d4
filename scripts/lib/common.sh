# Shared by demo.sh and test.sh: build + install, and the server settings a
# photofactory cluster needs.
PF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=cluster.sh
source "$PF_ROOT/scripts/lib/cluster.sh"

pf_log() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Builds and installs photofactory.so and the extension files (as root, or via sudo).
pf_build_install() {
  local werror=${1:-0}
  make -C "$PF_ROOT" -s -j2 PF_WERROR="$werror" >/dev/null
  if [ "$(id -u)" -eq 0 ]; then make -C "$PF_ROOT" -s install >/dev/null
  else sudo make -C "$PF_ROOT" -s install >/dev/null; fi
}

# postgresql.conf lines for a cluster whose workers ingest INBOX into STORAGE
# in database DB. pg_cron runs its jobs in background workers because the
# throwaway clusters listen on a Unix socket only.
pf_server_conf() {
  local db=$1 inbox=$2 storage=$3
  cat <<CONF
shared_preload_libraries = 'pg_cron,photofactory'
cron.database_name = '$db'
cron.use_background_workers = on
photofactory.database = '$db'
photofactory.inbox_dir = '$inbox'
photofactory.storage_dir = '$storage'
photofactory.heartbeat_interval = '2s'
photofactory.settle_time = '1s'
photofactory.scan_interval = '5s'
photofactory.min_free_space = '64MB'
photofactory.syncthing_url = ''
photofactory.dashboard_listen = ''
# Off unless a test (or the demo) turns it on: tests that switch storage_dir
# around would otherwise leave renditions under roots they abandon.
photofactory.thumbnailer_workers = 0
CONF
}
