#!/usr/bin/env bash
# The main job for a newcomer (run by `make demo` after the build): the drivers, a conformance
# run of the loopback driver, and a queue session against a real daemon.
set -euo pipefail
bin=$1
out=$2
cd "$(dirname "$0")/.."
mkdir -p "$out"
say() { printf '\n== %s\n' "$*"; }

say "cloud-dispatch drivers"
"$bin/cloud-dispatch" drivers

say "cloud-dispatch driver-test --driver loopback   (real sshd processes on 127.0.0.1)"
printf '{"state_dir": "%s/demo-loopback"}\n' "$out" > "$out/loopback.json"
"$bin/cloud-dispatch" driver-test --driver loopback --config "$out/loopback.json"

say "cloud-dispatch serve --config examples/local.yml"
rm -rf "$out/local-state"
"$bin/cloud-dispatch" serve --config examples/local.yml --log-level warning &
daemon=$!
trap 'kill $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true' EXIT
export CLOUD_DISPATCH_SERVER=http://127.0.0.1:8723
for _ in $(seq 100); do curl -fs $CLOUD_DISPATCH_SERVER/_health >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs $CLOUD_DISPATCH_SERVER/_health; echo
tok=(--token-file "$out/local-state/admin.token")

say "cloud-dispatch submit ..."
"$bin/cloud-dispatch" submit "${tok[@]}" --vcpus 1 --ram 512MiB -- echo hello
"$bin/cloud-dispatch" submit "${tok[@]}" --vcpus 2 --ram 2GiB --priority 5 --max-run-time 10m -- sh -c 'sleep 30'
last=$("$bin/cloud-dispatch" submit "${tok[@]}" --vcpus 4 --ram 8GiB --env MODE=fast -- ./train --epochs 3)
"$bin/cloud-dispatch" submit "${tok[@]}" --vcpus 0 -- echo "refused: no vCPUs" || true

say "cloud-dispatch cancel $last"
"$bin/cloud-dispatch" cancel "${tok[@]}" "$last" --reason "demo: changed my mind"

say "cloud-dispatch ps"
"$bin/cloud-dispatch" ps "${tok[@]}"
echo
echo "(Containers stay Queued until the scheduler lands; the daemon stops now.)"
