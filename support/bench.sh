#!/usr/bin/env bash
# Every benchmark, each one's output kept, then one table: benchmark, figure, target, pass/miss.
#   support/bench.sh BIN OUT      (BIN: the release bin path; `make bench` passes it)
# Each `cloud-dispatch bench …` ends by printing its figures as tab-separated `figure` lines
# (Sources/Benchmarks/BenchFigure.swift); support/bench-table.py turns them into the table.
# A subcommand this build does not have yet gets a visible "not available" row; one that
# fails gets a "failed" row and makes this script exit 1 (after the table). Misses do not.
set -uo pipefail
bin=$1 out=$2/bench
cd_bin=$bin/cloud-dispatch
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$out" && mkdir -p "$out" && chmod 755 "$out"
logs=()
failed=0

# bench NAME SUBCOMMAND ARGS...: runs `cloud-dispatch bench SUBCOMMAND ARGS...` into $out/NAME.log.
bench() {
  local name=$1 sub=$2
  shift 2
  local log=$out/$name.log
  logs+=("$log")
  # `bench NAME --help` exits 0 even for an unknown NAME (it shows bench's help): look it up in the list.
  if ! "$cd_bin" bench --help 2>/dev/null | sed -n '/^SUBCOMMANDS:/,$p' | grep -qE "^  $sub( |\$)"; then
    printf 'figure\tbench %s\t-\tnot available in this build\t-\t-\n' "$sub" >"$log"
    echo "== bench $sub: not available in this build"
    return
  fi
  echo "== cloud-dispatch bench $sub $*"
  local started=$SECONDS
  (cd "$out" && "$cd_bin" bench "$sub" "$@") >"$log" 2>&1
  local rc=$?
  grep -v $'^figure\t' "$log" | sed 's/^/   /'
  echo "   ($((SECONDS - started)) s)"
  if [ $rc != 0 ]; then
    printf 'figure\tbench %s %s\t-\tfailed (exit %d, see %s)\t-\tmiss\n' "$sub" "$*" "$rc" "$log" >>"$log"
    failed=1
  fi
}

# with_peer SCRIPT DIR NAME LABEL FUNCTION: starts a throwaway peer (`support/SCRIPT start DIR auto`
# prints its address, kept in $peer), runs FUNCTION, stops the peer. A peer that does not start
# gets a "failed" row for LABEL in NAME's log.
with_peer() {
  local script=$here/$1 dir=$2 name=$3 label=$4 body=$5
  if peer=$("$script" start "$dir" auto 2>"$out/$name-start.log"); then
    trap '"$script" stop "$dir" >/dev/null 2>&1' EXIT
    "$body"
    "$script" stop "$dir" >/dev/null 2>&1
    trap - EXIT
  else
    logs+=("$out/$name.log")
    printf 'figure\t%s\t-\tfailed: %s did not start (see %s)\t-\tmiss\n' "$label" "$1" "$out/$name-start.log" >"$out/$name.log"
    failed=1
  fi
}

bench scheduler scheduler
# A round at 100,000 waiting + 10,000 running, and submit → lock p99 at that depth (issue 18).
bench round round --rounds 5 --probes 20
bench dispatch dispatch --count 100
bench queue-sqlite queue --store sqlite --count 10000 --batch 1000

queue_postgres() { bench queue-postgres queue --store "$peer" --count 10000 --batch 1000; }
with_peer test-postgres.sh "$out/postgres" queue-postgres "queue (postgresql)" queue_postgres

bench memory memory --queued 100000 --instances 10000
bench cost cost --count 2000
bench ramp ramp --count 1000

# The same ramp through the EC2 driver against a throwaway moto (issue 18: "and on EC2 via moto").
ramp_ec2() {
  printf '{"region": "us-east-1", "endpoint": "%s", "access_key_id": "AKIDEXAMPLE", "secret_access_key": "moto", "image": "ami-760aaa0f", "instance_types": ["t3.micro"], "use_instance_role": false}\n' \
    "$peer" >"$out/ec2-moto.json"
  bench ramp-ec2 ramp --count 1000 --driver ec2 --config "$out/ec2-moto.json" --provider-type t3.micro
}
with_peer moto.sh "$out/moto" ramp-ec2 "ramp on ec2" ramp_ec2

echo
python3 "$here/bench-table.py" "${logs[@]}" | tee "$out/table.md"
exit $failed
