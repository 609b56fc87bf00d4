# Sourced by every end-to-end test: the shared scripts, the live cluster
# started by scripts/test.sh, and tiny assertion helpers. Each test ends with
# pf_summary, which prints "N passed, M failed" and sets the exit code.
set -uo pipefail
PF_E2E_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$PF_E2E_LIB/../../../scripts/lib/common.sh"
: "${PF_TEST_RUN:?run the end-to-end tests through scripts/test.sh}"
root=$PF_ROOT
inbox=$PF_TEST_RUN/inbox
storage=$PF_TEST_RUN/storage

pf_pass=0
pf_fail=0

ok() {  # ok DESCRIPTION COMMAND...
  local desc=$1; shift
  if "$@" >/dev/null 2>&1; then pf_pass=$((pf_pass + 1)); echo "ok - $desc"
  else pf_fail=$((pf_fail + 1)); echo "not ok - $desc"; fi
}

is() {  # is ACTUAL EXPECTED DESCRIPTION
  if [ "$1" == "$2" ]; then pf_pass=$((pf_pass + 1)); echo "ok - $3"
  else pf_fail=$((pf_fail + 1)); echo "not ok - $3"; echo "#   got:      '$1'"; echo "#   expected: '$2'"; fi
}

pf_summary() {
  echo "$pf_pass passed, $pf_fail failed"
  [ "$pf_fail" -eq 0 ]
}

# Runs SQL in the test database and prints unaligned, tuples-only output.
sql() { pf_psql "$PF_TEST_RUN" -d "${PF_TEST_DB:-pftest}" -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"; }

# True when the query's output equals VALUE (re-run on every wait_for retry).
sql_is() { [ "$(sql "$1")" = "$2" ]; }

# Waits until COMMAND succeeds, up to SECONDS. Pass a command, not a
# "$(...)" result: a substitution would be evaluated only once.
wait_for() {  # wait_for SECONDS COMMAND...
  local limit=$1; shift
  local t=0
  while ! "$@" >/dev/null 2>&1; do
    t=$((t + 1)); [ "$t" -gt $((limit * 5)) ] && return 1; sleep 0.2
  done
}
