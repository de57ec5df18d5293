#!/usr/bin/env bash
# The main job for a newcomer (run by `make demo` after the build): a daemon on the embedded
# defaults runs a mixed workload on loopback instances (real sshd processes on this machine,
# reached over SSH, with the real runner), shows progress, the final table, and the instances
# it created and shut down. DEMO_KEEP=1 leaves the daemon running for you to use.
set -euo pipefail
bin=$1
out=$2
cd "$(dirname "$0")/.."
mkdir -p "$out"
say() { printf '\n== %s\n' "$*"; }
cd_() { "$bin/cloud-dispatch" "$@"; }
no_instances() { [ "$(cd_ instances --json | tr -d '[:space:]')" = "[]" ]; }

say "cloud-dispatch drivers"
cd_ drivers

say "cloud-dispatch serve --config examples/demo.yml   (SQLite queue, loopback driver, runtime none)"
state="$out/demo-state"
rm -rf "$state"
log="$out/demo-serve.log"
# Port 0: the daemon binds a port the kernel picks and logs it (msg=listening
# address=http://127.0.0.1:PORT), so no other program can take it between a pick and the bind.
# The log exists before tail looks for it: the background shell opens it only when it runs.
: >"$log"
"$bin/cloud-dispatch" serve --config examples/demo.yml --listen 127.0.0.1:0 --state-dir "$state" --log-level info >"$log" 2>&1 &
daemon=$!
stop_daemon() { kill $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true; }
trap stop_daemon EXIT
trap 'exit 130' INT TERM HUP PIPE   # the EXIT trap still stops the daemon
# Reads that line as it is written (tail -f), giving up when the daemon ends or after 60 s.
address=
while IFS= read -r line; do
  case $line in *listening*http://127.0.0.1:*) port=${line##*http://127.0.0.1:}; address=http://127.0.0.1:${port%%[!0-9]*}; break;; esac
done < <(timeout 60 tail -n +1 -f --pid=$daemon "$log")
export CLOUD_DISPATCH_SERVER=$address
[ -n "$address" ] && curl -fs $CLOUD_DISPATCH_SERVER/_health >/dev/null || { echo "the daemon did not start:"; cat "$log"; exit 1; }
CLOUD_DISPATCH_TOKEN=$(cat "$state/admin.token")
export CLOUD_DISPATCH_TOKEN
echo "daemon up (log: $log)"

say "cloud-dispatch submit ...   (21 containers: small, medium, large; some fail on purpose)"
for i in $(seq 1 8); do cd_ submit --vcpus 1 --ram 512MiB -- sh -c "echo small job $i; sleep 2" >/dev/null; done
for i in $(seq 1 6); do cd_ submit --vcpus 2 --ram 2GiB -- sh -c "echo medium job $i; sleep 3" >/dev/null; done
for i in $(seq 1 3); do cd_ submit --vcpus 4 --ram 6GiB --priority 5 -- sh -c "echo large job $i; sleep 4" >/dev/null; done
cd_ submit --vcpus 1 --ram 256MiB -- sh -c 'echo "disk full (on purpose)" >&2; exit 2' >/dev/null
cd_ submit --vcpus 1 --ram 256MiB -- sh -c 'echo "segfault (on purpose)"; kill -SEGV $$' >/dev/null
cd_ submit --vcpus 1 --ram 256MiB --max-run-time 2s -- sleep 30 >/dev/null
cd_ submit --vcpus 64 --ram 1GiB -- echo "no instance type has 64 vCPUs" >/dev/null
echo "submitted 21 containers"

say "progress"
counts() { cd_ ps --json | python3 -c '
import collections, json, sys
c = collections.Counter(x["state"] for x in json.load(sys.stdin))
print("  ".join(f"{s} {c[s]}" for s in ["Queued", "Locked", "Running", "Complete", "Cancelled"]))'; }
start=$(date +%s)
while true; do
  line=$(counts)
  printf '%3ss  %s\n' $(( $(date +%s) - start )) "$line"
  case "$line" in *"Queued 0  Locked 0  Running 0"*) break;; esac
  [ $(( $(date +%s) - start )) -lt 120 ] || { echo "still not done after 120 s"; exit 1; }
  sleep 2
done

say "cloud-dispatch ps --wide"
cd_ ps --wide

say "cloud-dispatch instances   (all idle now; each is shut down after 10 s idle)"
cd_ instances
for _ in $(seq 60); do no_instances && break; sleep 1; done

say "cloud-dispatch instances   (after the idle timeout)"
cd_ instances
# From the daemon's logfmt lines: msg="instances created" count=N ... type=T
created=$(awk '/msg="instances created"/ {c = 0; t = ""
    for (i = 1; i <= NF; i++) { if ($i ~ /^count=/) c = substr($i, 7); if ($i ~ /^type=/) t = substr($i, 6) }
    n[t] += c; all += c}
  END {for (k in n) printf "%s %d, ", k, n[k]; printf "%d in all", all}' "$log")
echo "daemon memory: $(awk '/VmHWM/ {printf "%.0f MiB peak", $2/1024}' /proc/$daemon/status), $(awk '/VmRSS/ {printf "%.0f MiB now", $2/1024}' /proc/$daemon/status)"
left=$(pgrep -fc "$state/loopback" || true)
echo "created: $created; shut down: $(grep -c 'instance shut down' "$log"); sshd processes of demo instances left: $left"
[ "$left" = 0 ] && no_instances || { echo "instances were left running"; exit 1; }

if [ "${DEMO_KEEP:-}" = 1 ]; then
  trap - EXIT
  say "the daemon keeps running (pid $daemon); try:"
  echo "  export CLOUD_DISPATCH_SERVER=$CLOUD_DISPATCH_SERVER CLOUD_DISPATCH_TOKEN=\$(cat $state/admin.token)"
  echo "  $bin/cloud-dispatch submit --vcpus 2 --ram 1GiB -- sh -c 'echo hi; sleep 5'"
  echo "  $bin/cloud-dispatch ps --wide"
  echo "  kill $daemon    # stops it; instances are adopted at the next start"
fi
