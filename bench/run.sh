#!/usr/bin/env bash
# photofactory benchmark (issue #5). One command:
#
#   bench/run.sh            full size: 2,000 photos of 1-5 MB, 20,000 files of 40 KiB,
#                           10 videos of 200-240 MiB, 20 latency files, a 1,000,000-row ledger
#   bench/run.sh --quick    smoke size (about a minute; scripts/test.sh runs it)
#
# On a machine shared with other engineers, hold the install lock for the whole
# run (it installs photofactory.so and starts clusters):
#   flock /tmp/pf-install.lock bench/run.sh
#
# Method, options and figures: docs/performance.md. Prints a table and writes
# bench/results/<timestamp>.json (or --out FILE). Every engine figure is paired
# with baselines measured in the same run over the same (page-cached) files.
set -uo pipefail
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../scripts/lib/common.sh
source "$BENCH_ROOT/../scripts/lib/common.sh"
source "$BENCH_ROOT/lib/bench.sh"
source "$BENCH_ROOT/lib/geocoder.sh"
source "$BENCH_ROOT/lib/dashboard.sh"
source "$BENCH_ROOT/lib/backup.sh"
source "$BENCH_ROOT/lib/thumbnails.sh"

usage() {
  cat <<'EOF'
usage: bench/run.sh [--quick] [--only LIST] [--no-install | --src-rev REV] [--profile] [--out FILE]
                    [--keep-corpus | --clean | --generate-only]
  --quick        smoke sizes (see docs/performance.md); corpora are removed afterwards
  --only LIST    comma-separated phases: photos,small,large,latency,ledger,geocoder,dashboard,backup,thumbnails (default:
                 all; geocoder and dashboard run on the ledger's cluster)
  --no-install   use the installed photofactory.so instead of building and installing this checkout
  --profile      after the timed runs, one extra untimed run per corpus under strace -c and perf
  --out FILE     results file (default bench/results/<timestamp>.json)
  --keep-corpus  keep generated corpora (default for full-size runs; they are reused when unchanged)
  --clean        delete cached corpora under $PF_BENCH_DIR and exit
  --generate-only  generate (or check) the corpora and exit: no lock needed for this part
  --report FILE  print the table of a saved results file (recomputed from its raw measurements) and exit
  --src-rev REV  build and install the extension from git revision REV of this repository (exported with
                 git archive into the run's temporary folder) instead of the checkout
Sizes and settings come from PF_BENCH_* environment variables (docs/performance.md).
EOF
}

quick=0; only=all; install=1; profile=0; out=""; keep=""; clean=0; generate_only=0; src_rev=""
# profile is read by bench_corpus_phase (bench/lib/bench.sh)
# shellcheck disable=SC2034
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --only) only=$2; shift ;;
    --only=*) only=${1#--only=} ;;
    --no-install) install=0 ;;
    --profile) profile=1 ;;
    --out) out=$2; shift ;;
    --out=*) out=${1#--out=} ;;
    --keep-corpus) keep=1 ;;
    --clean) clean=1 ;;
    --generate-only) generate_only=1 ;;
    --report) exec perl "$BENCH_ROOT/lib/report.pl" --from "$2" ;;
    --src-rev) src_rev=$2; shift ;;
    --src-rev=*) src_rev=${1#--src-rev=} ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

bench_defaults "$quick"
bench_backup_defaults "$quick"
[ -n "$keep" ] && PF_BENCH_KEEP_CORPUS=$keep
if [ "$clean" = 1 ]; then
  echo "removing $PF_BENCH_DIR/corpus"; rm -rf "$PF_BENCH_DIR/corpus"; exit 0
fi
want() { [ "$only" = all ] || [[ ",$only," == *",$1,"* ]]; }

[ "$(id -u)" -eq 0 ] || { echo "bench/run.sh runs as root (clusters run as $PF_CLUSTER_USER via runuser)" >&2; exit 2; }
for tool in openssl exiftool convert sha256sum perl psql; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool (bash scripts/install-deps.sh)" >&2; exit 2; }
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
[ -n "$out" ] || out=$BENCH_ROOT/results/$([ "$quick" = 1 ] && echo quick-)$stamp.json
mkdir -p "$(dirname "$out")" "$PF_BENCH_DIR"
chmod 755 "$PF_BENCH_DIR"
RUN=$(mktemp -d "$PF_BENCH_DIR/run.XXXXXX")
chmod 755 "$RUN"
ARTIFACTS=${out%.json}         # plans, profiles, per-run logs
mkdir -p "$ARTIFACTS"
RESULTS=$RUN/results.jsonl
: >"$RESULTS"

cleanup() {
  bench_stop_sampler
  [ -n "${CL:-}" ] && pf_cluster_stop "$CL"
  bench_restore_all
  if [ "$PF_BENCH_KEEP_CORPUS" != 1 ]; then bench_drop_corpora; fi
  rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_check_disk || exit 1

if [ "$generate_only" = 1 ]; then
  PF_BENCH_KEEP_CORPUS=1
  for k in photos small large latency; do
    if want "$k"; then bench_ensure_corpus "$k" || exit 1; fi
  done
  if want thumbnails; then bench_thumbnails_spec && bench_thumbnails_generate || exit 1; fi
  exit 0
fi

if [ -n "$src_rev" ]; then
  BENCH_COMMIT=$(git -C "$PF_ROOT" rev-parse --verify "$src_rev^{commit}") || exit 2
  pf_log "building and installing photofactory.so from $src_rev ($BENCH_COMMIT)"
  mkdir -p "$RUN/src"
  git -C "$PF_ROOT" archive "$BENCH_COMMIT" | tar -x -C "$RUN/src" &&
    make -C "$RUN/src" -s -j2 >/dev/null && make -C "$RUN/src" -s install >/dev/null ||
    { echo "build/install of $src_rev failed" >&2; exit 1; }
elif [ "$install" = 1 ]; then
  pf_log "building and installing photofactory.so from $PF_ROOT"
  pf_build_install 0 || { echo "build/install failed" >&2; exit 1; }
fi

# shellcheck disable=SC2034  # BENCH_INSTALLED_START: read by bench_meta_json
BENCH_INSTALLED=$(bench_installed_id) BENCH_INSTALLED_START=$BENCH_INSTALLED
echo "installed extension files: $BENCH_INSTALLED"

phases=()
for k in photos small large; do want "$k" && phases+=("$k"); done
for k in "${phases[@]}"; do
  bench_corpus_phase "$k" || bench_fail "$k" "corpus phase failed"
done
if want latency; then bench_latency_phase || bench_fail latency "latency phase failed"; fi
if want ledger || want geocoder || want dashboard; then bench_ledger_phase || bench_fail ledger "ledger phase failed"; fi
if want backup; then bench_backup_phase || bench_fail backup "backup phase failed"; fi
if want thumbnails; then bench_thumbnails_phase || bench_fail thumbnails "thumbnails phase failed"; fi

pf_log "results"
perl "$BENCH_ROOT/lib/report.pl" "$RESULTS" "$out" "$(bench_meta_json "$quick")"
rc=$?
echo
echo "results: $out"
echo "plans and profiles: $ARTIFACTS/"
[ "$rc" -eq 0 ] && [ ! -s "$RUN/failures" ]
