#!/usr/bin/env bash
# `make test` N times in a row on a clean clone of HEAD, with one CPU hog per core beside it (the
# "busy machine" a newcomer's laptop is):
#   support/load-test.sh [RUNS] [CLONE_DIR]      default: 3 runs in /tmp/cloud-dispatch-load
# One line per run goes to CLONE_DIR.summary (exit status, seconds, load, commit); each run's
# output to CLONE_DIR.run-N.log. Exits 0 only when every run passed. Start a parallel build of
# your own beside it for the full load.
set -uo pipefail
runs=${1:-3}
clone=${2:-/tmp/cloud-dispatch-load}
here=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$clone" && git clone -q "$here" "$clone" || exit 1
hogs=()
for _ in $(seq "$(nproc)"); do yes >/dev/null & hogs+=($!); done
trap 'kill "${hogs[@]}" 2>/dev/null' EXIT
failed=0
cd "$clone"
for i in $(seq "$runs"); do
  start=$(date +%s)
  make test >"$clone.run-$i.log" 2>&1; rc=$?
  [ "$rc" = 0 ] || failed=1
  echo "run $i rc=$rc seconds=$(( $(date +%s) - start )) load=$(cut -d' ' -f1-3 /proc/loadavg) commit=$(git rev-parse --short HEAD)" | tee -a "$clone.summary"
done
exit $failed
