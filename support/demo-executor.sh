#!/usr/bin/env bash
# `make demo EXECUTOR=slurm` (or local): the demo's workload on an executor backend instead of
# VMs. For slurm a throwaway single-node cluster is started here and stopped at the end
# (support/test-slurm.sh); the daemon keeps the queue and policy, the backend runs the jobs.
set -euo pipefail
bin=$(cd "$1" && pwd)
out=$2
kind=$3
cd "$(dirname "$0")/.."
say() { printf '\n== %s\n' "$*"; }
cd_() { "$bin/cloud-dispatch" "$@"; }
root="$out/demo-$kind"
rm -rf "$root" && mkdir -p "$root/plugins" && chmod 755 "$root/plugins"
root=$(cd "$root" && pwd)
install -m 755 "$bin/libcdx_$kind.so" "$root/plugins/"

daemon=
cleanup() {
  [ -n "$daemon" ] && { kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; }
  [ "$kind" = slurm ] && support/test-slurm.sh stop "$root/cluster" >/dev/null
  true
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

case $kind in
slurm)
  say "a throwaway Slurm cluster (support/test-slurm.sh: munged, slurmctld, slurmd on this machine)"
  support/test-slurm.sh start "$root/cluster" >/dev/null
  export SLURM_CONF=$root/cluster/slurm.conf
  sinfo
  backend="{slurm_conf: \"$SLURM_CONF\", work_dir: \"$root/work\"}"
  partitions="partitions: [debug]"
  ;;
local)
  backend="{runner: \"$bin/cloud-dispatch-runner\", state_dir: \"$root/work\"}"
  partitions=
  ;;
*) echo "EXECUTOR must be slurm or local"; exit 64 ;;
esac
cat >"$root/config.yml" <<EOF
executor:
  name: $kind
  plugins: $root/plugins
  config: $backend
  $partitions
  poll_interval: 1s
EOF

say "cloud-dispatch drivers --plugins $root/plugins"
cd_ drivers --plugins "$root/plugins"

say "cloud-dispatch serve   (SQLite queue, executor: $kind)"
log="$root/serve.log"
: >"$log"  # exists before tail looks for it (the background shell opens it only when it runs)
cd_ serve --config "$root/config.yml" --listen 127.0.0.1:0 --state-dir "$root/state" --log-level info >"$log" 2>&1 &
daemon=$!
address=
while IFS= read -r line; do
  case $line in *listening*http://127.0.0.1:*) port=${line##*http://127.0.0.1:}; address=http://127.0.0.1:${port%%[!0-9]*}; break;; esac
done < <(timeout 60 tail -n +1 -f --pid=$daemon "$log")
[ -n "$address" ] || { echo "the daemon did not start:"; cat "$log"; exit 1; }
export CLOUD_DISPATCH_SERVER=$address CLOUD_DISPATCH_TOKEN
CLOUD_DISPATCH_TOKEN=$(cat "$root/state/admin.token")
echo "daemon up on $address (log: $log)"

say "cloud-dispatch submit ...   (20 containers; some fail on purpose, one runs too long, one is too big)"
for i in $(seq 1 14); do cd_ submit --vcpus 1 --ram 256MiB -- sh -c "echo job $i; sleep $(( i % 3 + 1 ))" >/dev/null; done
for i in 1 2 3; do cd_ submit --vcpus 2 --ram 512MiB --priority 5 -- sh -c "echo big job $i; sleep 2" >/dev/null; done
cd_ submit --vcpus 1 --ram 256MiB -- sh -c 'echo "disk full (on purpose)" >&2; exit 2' >/dev/null
cd_ submit --vcpus 1 --ram 256MiB --max-run-time 2s -- sleep 30 >/dev/null
cd_ submit --vcpus 512 --ram 1GiB -- echo "no partition has 512 vCPUs" >/dev/null

say "progress"
start=$(date +%s)
while true; do
  line=$(cd_ ps --json | python3 -c '
import collections, json, sys
c = collections.Counter(x["state"] for x in json.load(sys.stdin))
print("  ".join(f"{s} {c[s]}" for s in ["Queued", "Locked", "Running", "Complete", "Cancelled"]))')
  printf '%3ss  %s\n' $(( $(date +%s) - start )) "$line"
  case "$line" in *"Queued 0  Locked 0  Running 0"*) break;; esac
  [ $(( $(date +%s) - start )) -lt 180 ] || { echo "still not done after 180 s"; exit 1; }
  sleep 2
done

say "cloud-dispatch ps --wide"
cd_ ps --wide
if [ "$kind" = slurm ]; then
  say "squeue -t all   (the jobs Slurm ran for the daemon)"
  squeue -t all -o '%.6i %.10P %.12T %.10M %R' | head -25
fi
