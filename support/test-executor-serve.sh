#!/usr/bin/env bash
# `serve` on an executor backend, end to end (make executor-serve-test):
#   support/test-executor-serve.sh BIN OUT slurm|local
# A real daemon (SQLite queue) runs 50 containers through the backend: most exit 0, some fail on
# purpose (exit 3), one runs past its max_run_time, one is cancelled while running, one is too
# big for any partition, one is killed behind the daemon's back (scancel / kill by hand). The
# daemon is killed with SIGKILL mid-run and started again. Then every container must be final in
# the state and with the exit code or reason expected, each run file must show one run (none run
# twice, none lost), and the backend must hold no job of ours. For slurm a throwaway cluster is
# started and stopped (support/test-slurm.sh), leaving no process behind.
set -euo pipefail
bin=$(cd "$1" && pwd)
out=$2
kind=$3
cd "$(dirname "$0")/.."
root="$out/executor-serve-$kind"
rm -rf "$root" && mkdir -p "$root/plugins" "$root/runs" "$root/work" && chmod 755 "$root/plugins"
root=$(cd "$root" && pwd)
install -m 755 "$bin/libcdx_$kind.so" "$root/plugins/"
say() { printf '== %s\n' "$*"; }
fail() { echo "FAIL: $*"; [ -f "$root/serve.log" ] && tail -40 "$root/serve.log"; exit 1; }

daemon=
cleanup() {
  [ -n "$daemon" ] && { kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; }
  if [ "$kind" = slurm ]; then support/test-slurm.sh stop "$root/cluster" || true; fi
  pkill -f "$root/runs" 2>/dev/null || true  # plain processes of the local backend
}
trap cleanup EXIT

case $kind in
slurm)
  support/test-slurm.sh start "$root/cluster" >/dev/null
  export SLURM_CONF=$root/cluster/slurm.conf
  backend_config="{slurm_conf: \"$SLURM_CONF\", work_dir: \"$root/work\"}"
  # Not the test cluster's "urgent" partition: it preempts "debug", and a preempted job runs again.
  partitions="partitions: [debug]"
  ;;
local)
  backend_config="{runner: \"$bin/cloud-dispatch-runner\", state_dir: \"$root/work\", vcpus: 8, ram: 8589934592}"
  partitions=
  ;;
*) echo "usage: $0 BIN OUT slurm|local"; exit 64 ;;
esac
cat >"$root/config.yml" <<EOF
executor:
  name: $kind
  plugins: $root/plugins
  config: $backend_config
  $partitions
  poll_interval: 1s
  cancel_grace: 2s
queue:
  max_dispatch_attempts: 3
EOF
"$bin/cloud-dispatch" check-config "$root/config.yml" >/dev/null || fail "check-config refused the config"

# Starts the daemon on a port the kernel picks; sets CLOUD_DISPATCH_SERVER from its log line.
starts=0
start_daemon() {
  starts=$((starts + 1))
  [ -f "$root/serve.log" ] && mv "$root/serve.log" "$root/serve-$((starts - 1)).log"
  : >"$root/serve.log"  # exists before tail looks for it (the background shell opens it only when it runs)
  "$bin/cloud-dispatch" serve --config "$root/config.yml" --listen 127.0.0.1:0 --state-dir "$root/state" \
    --log-level info >>"$root/serve.log" 2>&1 &
  daemon=$!
  local address= line port
  while IFS= read -r line; do
    case $line in *listening*http://127.0.0.1:*) port=${line##*http://127.0.0.1:}; address=http://127.0.0.1:${port%%[!0-9]*}; break;; esac
  done < <(timeout 60 tail -n +1 -f --pid=$daemon "$root/serve.log")
  [ -n "$address" ] || fail "the daemon did not start"
  export CLOUD_DISPATCH_SERVER=$address CLOUD_DISPATCH_TOKEN
  CLOUD_DISPATCH_TOKEN=$(cat "$root/state/admin.token")
}
cd_() { "$bin/cloud-dispatch" "$@"; }
state_of() { cd_ show "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["state"])'; }
# Waits (up to $2 seconds) for container $1 to be in state $3.
wait_state() {
  local deadline=$(( $(date +%s) + $2 ))
  until [ "$(state_of "$1")" = "$3" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "container $1 not $3 after $2 s (it is $(state_of "$1"))"
    sleep 0.5
  done
}

start_daemon
say "daemon up on $CLOUD_DISPATCH_SERVER with the $kind backend"

# Each container appends one line to its own run file: two lines would be a second run.
run() { local name=$1; shift; echo "$name $(cd_ submit --vcpus 1 --ram 64MiB "$@")" >>"$root/expected"; }
body() { echo "echo run >>$root/runs/$1; $2"; }
: >"$root/expected"
run timeout --max-run-time 3s -- sh -c "$(body timeout 'sleep 120')"
run cancelled -- sh -c "$(body cancelled 'sleep 300')"
run killed -- sh -c "$(body killed 'sleep 300')"
run toobig --vcpus 512 -- sh -c "$(body toobig true)"
for i in $(seq 1 5); do run "fail$i" -- sh -c "$(body "fail$i" 'echo failing on purpose >&2; exit 3')"; done
for i in $(seq 1 41); do run "ok$i" -- sh -c "$(body "ok$i" "sleep $(( i % 3 + 1 ))")"; done
say "submitted $(wc -l <"$root/expected") containers"
uuid_of() { awk -v n="$1" '$1 == n {print $2}' "$root/expected"; }

wait_state "$(uuid_of cancelled)" 120 Running
cd_ cancel "$(uuid_of cancelled)" >/dev/null
say "cancelled a running container"

wait_state "$(uuid_of killed)" 120 Running
killed=$(uuid_of killed)
if [ "$kind" = slurm ]; then
  job=$(squeue -h -o '%i|%k' | awk -F'|' -v u="$killed" 'index($2, u) {print $1}')
  [ -n "$job" ] || fail "no Slurm job for $killed"
  scancel "$job"
else
  pkill -KILL -f "$root/runs/killed;" || fail "no process for $killed"
fi
say "killed a running container's job behind the daemon's back"

# SIGKILL mid-run, then a new daemon on the same state: it adopts what runs, submits nothing twice.
until [ "$(ls "$root/runs" | wc -l)" -ge 25 ]; do sleep 0.5; done
kill -KILL "$daemon"; wait "$daemon" 2>/dev/null || true
say "daemon killed with SIGKILL after $(ls "$root/runs" | wc -l) containers had started; starting it again"
start_daemon

deadline=$(( $(date +%s) + 300 ))
while true; do
  left=$(cd_ ps --json | python3 -c 'import json, sys; print(sum(c["state"] not in ("Complete", "Cancelled") for c in json.load(sys.stdin)))')
  [ "$left" = 0 ] && break
  [ "$(date +%s)" -lt "$deadline" ] || fail "$left containers not final after 300 s"
  sleep 1
done
say "every container is final"

# name -> expected state, exit code (or - ), and a word its reason must contain.
python3 - "$root" "$bin/cloud-dispatch" <<'EOF'
import json, os, subprocess, sys
root, cli = sys.argv[1], sys.argv[2]
problems = []
for line in open(os.path.join(root, "expected")):
    name, uuid = line.split()
    c = json.loads(subprocess.run([cli, "show", uuid], capture_output=True, text=True, check=True).stdout)
    status = json.dumps(c.get("runtime_status", {}))
    runs = open(os.path.join(root, "runs", name)).read().count("run") if os.path.exists(os.path.join(root, "runs", name)) else 0
    want = {"timeout": ("Cancelled", None, "max_run_time"), "cancelled": ("Cancelled", None, ""),
            "killed": ("Cancelled", None, "outside"), "toobig": ("Cancelled", None, "cannot run")}.get(
        name, ("Complete", 3, "") if name.startswith("fail") else ("Complete", 0, ""))
    state, code, word = want
    if c["state"] != state: problems.append(f"{name}: {c['state']}, expected {state} ({status})")
    elif state == "Complete" and c.get("exit_code") != code: problems.append(f"{name}: exit code {c.get('exit_code')}, expected {code}")
    elif word and word not in status: problems.append(f"{name}: reason {status} does not say {word!r}")
    if name == "toobig" and runs: problems.append("toobig ran")
    if name != "toobig" and runs != 1: problems.append(f"{name}: ran {runs} times")
print(f"checked {sum(1 for _ in open(os.path.join(root, 'expected')))} containers: {len(problems)} problems")
for p in problems: print("  " + p)
sys.exit(1 if problems else 0)
EOF

if [ "$kind" = slurm ]; then
  leftover=$(squeue -h -t pending,running -o '%i' | wc -l)
  [ "$leftover" = 0 ] || fail "$leftover Slurm jobs still pending or running"
fi
say "PASS: $kind backend, 50 containers, one daemon SIGKILL: every container final as expected, none run twice"
