#!/usr/bin/env bash
# The backup benchmark (issue #14) on its own: bench/run.sh's phase `backup`
# (bench/lib/backup.sh; method and figures in docs/performance.md).
#
#   bash bench/backup.sh [FILES] [BYTES_PER_FILE] [bench/run.sh options...]
#
# Hold the install lock on a shared machine: flock /tmp/pf-install.lock bash bench/backup.sh
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
if [[ ${1:-} =~ ^[0-9]+$ ]]; then export PF_BENCH_BACKUP_FILES=$1; shift; fi
if [[ ${1:-} =~ ^[0-9]+$ ]]; then export PF_BENCH_BACKUP_BYTES=$1; shift; fi
exec bash bench/run.sh --only backup "$@"
