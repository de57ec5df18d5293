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

bench scheduler scheduler
# A round at 100,000 waiting + 10,000 running, and submit → lock p99 at that depth (issue 18).
bench round round --rounds 5 --probes 20
bench dispatch dispatch --count 100
bench queue-sqlite queue --store sqlite --count 10000 --batch 1000

pg=$out/postgres
if url=$("$here/test-postgres.sh" start "$pg" auto 2>"$out/postgres-start.log"); then
  trap '"$here/test-postgres.sh" stop "$pg" >/dev/null 2>&1' EXIT
  bench queue-postgres queue --store "$url" --count 10000 --batch 1000
  "$here/test-postgres.sh" stop "$pg" >/dev/null 2>&1
  trap - EXIT
else
  logs+=("$out/queue-postgres.log")
  printf 'figure\tqueue (postgresql)\t-\tfailed: no throwaway PostgreSQL (see %s)\t-\tmiss\n' "$out/postgres-start.log" >"$out/queue-postgres.log"
  failed=1
fi

bench memory memory --queued 100000 --instances 10000
bench cost cost --count 2000
bench ramp ramp --count 1000

# The same ramp through the EC2 driver against a throwaway moto (issue 18: "and on EC2 via moto").
moto=$out/moto
if endpoint=$("$here/moto.sh" start "$moto" auto 2>"$out/moto-start.log"); then
  trap '"$here/moto.sh" stop "$moto" >/dev/null 2>&1' EXIT
  printf '{"region": "us-east-1", "endpoint": "%s", "access_key_id": "AKIDEXAMPLE", "secret_access_key": "moto", "image": "ami-760aaa0f", "instance_types": ["t3.micro"], "use_instance_role": false}\n' \
    "$endpoint" >"$out/ec2-moto.json"
  bench ramp-ec2 ramp --count 1000 --driver ec2 --config "$out/ec2-moto.json" --provider-type t3.micro
  "$here/moto.sh" stop "$moto" >/dev/null 2>&1
  trap - EXIT
else
  logs+=("$out/ramp-ec2.log")
  printf 'figure\tramp on ec2\t-\tfailed: no moto (see %s)\t-\tmiss\n' "$out/moto-start.log" >"$out/ramp-ec2.log"
  failed=1
fi

echo
python3 "$here/bench-table.py" "${logs[@]}" | tee "$out/table.md"
exit $failed
