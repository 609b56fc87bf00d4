#!/usr/bin/env bash
# Runs every test suite: C++ core unit tests (CTest), the comparison of our
# metadata reading with exiftool's (test/formats), pg_regress for the SQL
# Runs every test suite: C++ core unit tests (CTest), a short libFuzzer run
# over the metadata parsers (test/fuzz), pg_regress for the SQL
# surface, pgTAP for schema/privileges/workers, and the end-to-end ingest
# tests against a live throwaway cluster. Exits non-zero if any suite fails
# or if a suite ran no test. The cluster is always stopped.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh

bash scripts/install-deps.sh || exit 1

passed=0; failed=0; failed_names=()
suite() {  # suite NAME COMMAND...
  local name=$1; shift
  pf_log "suite: $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failed_names+=("$name"); fi
}

unit_tests() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPF_WERROR=ON >/dev/null &&
    cmake --build build -j2 >/dev/null &&
    (cd build && ctest --output-on-failure -j2)
}
suite "unit (ctest)" unit_tests

# Our reading of every format against exiftool's (generated fixtures; no cluster).
formats() { bash test/formats/compare.sh; }
suite "formats vs exiftool (test/formats)" formats
# libFuzzer + ASan/UBSan over the metadata parsers (no cluster); longer runs:
# bash test/fuzz/run.sh 600 (test/fuzz/README.md).
fuzz() { PF_FUZZ_SEED=${PF_FUZZ_SEED:-1} bash test/fuzz/run.sh "${PF_FUZZ_SECONDS:-45}"; }
suite "fuzz: metadata parsers (test/fuzz)" fuzz

pf_log "building photofactory.so with -Werror and installing it"
if ! pf_build_install 1; then
  echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi

run=$(mktemp -d /tmp/photofactory-test.XXXXXX)
port=${PF_TEST_PORT:-54330}
mkdir -p "$run/inbox" "$run/storage"
pf_cluster_init "$run" "$port" "$(pf_server_conf pftest "$run/inbox" "$run/storage")
photofactory.heartbeat_interval = '1s'
photofactory.default_timezone = 'Europe/Paris'
photofactory.librarian_workers = 2" || exit 1
pf_own "$run"
cleanup() {
  pf_cluster_stop "$run"
  if [ "$failed" -gt 0 ] && [ -f "$run/log/server.log" ]; then
    pf_log "server log (last 80 lines)"; tail -80 "$run/log/server.log"
  fi
  rm -rf "$run"
}
trap cleanup EXIT
pf_cluster_start "$run" || exit 1
export PGHOST=$run/sock PGPORT=$port PGUSER=postgres
export PF_TEST_RUN=$run

regress() {
  rm -rf results regression.diffs regression.out
  if make -s installcheck; then return 0; fi
  [ -f regression.diffs ] && cat regression.diffs
  return 1
}
suite "pg_regress (sql/, expected/)" regress

pgtap() {
  psql -X -q -d postgres -c "CREATE DATABASE pftest" &&
    psql -X -q -d pftest -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION pgtap" \
         -c "CREATE EXTENSION photofactory" &&
    pg_prove -d pftest test/pgtap/*.sql
}
suite "pgTAP (test/pgtap)" pgtap

e2e() {
  local rc=0 t
  for t in test/e2e/*.sh; do
    [ -e "$t" ] || continue
    echo "-- $t"
    bash "$t" || rc=1
  done
  return $rc
}
if compgen -G "test/e2e/*.sh" >/dev/null; then suite "end-to-end (test/e2e)" e2e; fi

# kill -9 torture (own cluster; CI-sized here, full size: bash test/fault/torture.sh)
torture() { PF_TORTURE_FILES=${PF_TORTURE_FILES:-200} PF_TORTURE_ROUNDS=${PF_TORTURE_ROUNDS:-6} bash test/fault/torture.sh; }
suite "fault: kill -9 torture (test/fault)" torture

# storage on a small tmpfs filled mid-ingest (with a kill -9), then enlarged
full_disk() { bash test/fault/full_disk.sh; }
suite "fault: full disk (test/fault)" full_disk

# Upgrade from the released 0.1.0 (built from git) with the workers running;
# bad update input; upgraded schema == fresh install (own cluster).
upgrade() { bash test/upgrade/upgrade.sh; }
suite "upgrade from 0.1.0 (test/upgrade)" upgrade

# The Debian package: built from a copy, installed, CREATE EXTENSION from its
# files; removed again and the working tree reinstalled (own cluster).
package_deb() { bash test/package/deb.sh; }
suite "Debian package (test/package/deb.sh)" package_deb

# PGXN metadata against the META spec v1.0.0.
pgxn_meta() { perl test/package/pgxn-meta.pl META.json; }
suite "PGXN META.json (test/package/pgxn-meta.pl)" pgxn_meta
# pg_dump/pg_restore of the ledger into a fresh cluster, the workers resuming on
# it, and a ledger rebuilt from the library (own clusters, one after the other)
dump_restore() { bash test/restore/dump_restore.sh; }
suite "dump/restore round trip (test/restore)" dump_restore

# Benchmark smoke run: every phase of bench/run.sh at a tiny size, checked for
# complete results only -- never against timing thresholds (docs/performance.md).
bench_smoke() {
  local dir rc
  dir=$(mktemp -d /tmp/photofactory-bench-smoke.XXXXXX) && chmod 755 "$dir" || return 1
  PF_BENCH_DIR=$dir/work bash bench/run.sh --quick --no-install --out "$dir/results.json" &&
    perl bench/lib/check-results.pl "$dir/results.json"
  rc=$?
  rm -rf "$dir"
  return $rc
}
suite "bench --quick (smoke; results only, no timing thresholds)" bench_smoke

pf_log "summary"
[ ${#failed_names[@]} -eq 0 ] || echo "failed suites: ${failed_names[*]}"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
