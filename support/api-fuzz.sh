#!/usr/bin/env bash
# The HTTP API against its own OpenAPI document, by an independent fuzzer (schemathesis, PyPI):
# a real `cloud-dispatch serve` on the sim driver, every check (`--checks all`: status codes,
# content types, response schemas, headers, negative data rejected, positive data accepted,
# 405 with Allow, auth ignored nowhere, ...), the coverage, fuzzing and stateful phases,
# within a time budget (API_FUZZ_SECONDS, default 120). Exits non-zero on any failure; the
# daemon is stopped on every way out.
set -euo pipefail
bin=$1
out=$2
budget=${API_FUZZ_SECONDS:-120}
cd "$(dirname "$0")/.."
dir="$out/api-fuzz"
rm -rf "$dir" && mkdir -p "$dir"
cat >"$dir/config.yml" <<YAML
dispatcher_id: fuzz
listen: 127.0.0.1:0
state_dir: state
driver: {name: sim}
YAML
"$bin/cloud-dispatch" serve --config "$dir/config.yml" >"$dir/serve.log" 2>&1 &
daemon=$!
stop_daemon() { kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; }
trap stop_daemon EXIT
trap 'exit 130' INT TERM HUP PIPE   # the EXIT trap still stops the daemon
# Port 0: the daemon's "listening" line names the port it bound (no free-port race).
for _ in $(seq 600); do grep -q 'msg=listening' "$dir/serve.log" && break; kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
url=$(grep -o 'address=http://[^ ]*' "$dir/serve.log" | head -1 | cut -d= -f2 || true)
for _ in $(seq 300); do [ -n "$url" ] || break; curl -fs "$url/_health" >/dev/null 2>&1 && break; kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
[ -n "$url" ] && curl -fs "$url/_health" >/dev/null || { echo "the daemon did not start:"; cat "$dir/serve.log"; exit 1; }
start=$(date +%s)
token=$(cat "$dir/state/admin.token")
cd "$dir"   # schemathesis keeps a .schemathesis folder in the current one
timeout $((budget + 60)) schemathesis run "$url/openapi.json" --url "$url" \
  -H "Authorization: Bearer $token" \
  --checks all --phases examples,coverage,fuzzing,stateful --max-time "$budget" --workers 2 \
  --request-timeout 20 --seed 1 --generation-database none --no-color \
  --report junit --report-dir report 2>&1 | tee schemathesis.log
status=${PIPESTATUS[0]}
echo "api-fuzz: schemathesis exited $status after $(( $(date +%s) - start )) s (log: $dir/schemathesis.log)"
exit "$status"
