#!/usr/bin/env bash
# Every example configuration as it is, and with each "#alt" alternative it offers uncommented
# in turn (support/example_variants.py), passes check-config and serves: started with the
# dispatcher (the driver opened), /_health answers ok, SIGTERM stops it with status 0.
set -euo pipefail
bin=$1
out=$2
cd "$(dirname "$0")/.."
work="$out/examples-test"
rm -rf "$work" && mkdir -p "$work"
# The variants live beside the examples: their relative paths are relative to that folder.
trap 'rm -f examples/.examples-test-*.yml' EXIT
export CLOUD_DISPATCH_ADMIN_TOKEN="examples-test-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
checked=0
for example in examples/*.yml; do
  for variant in $(python3 support/example_variants.py "$example" "examples/.examples-test-$(basename "$example" .yml)"); do
    name="$example (variant ${variant##*-})"
    if ! "$bin/cloud-dispatch" check-config "$variant" >"$work/check.out"; then
      echo "FAIL check-config $name:"; cat "$work/check.out"; diff "$example" "$variant" || true; exit 1
    fi
    n=$((checked + 1))
    log="$work/serve-$n.log"
    "$bin/cloud-dispatch" serve --config "$variant" --state-dir "$work/state-$n" --listen 127.0.0.1:0 >"$log" 2>&1 &
    daemon=$!
    # Wait for the "listening" line (it names the port), or for the daemon to end.
    for _ in $(seq 600); do grep -q 'msg=listening' "$log" && break; kill -0 $daemon 2>/dev/null || break; sleep 0.1; done
    address=$(grep -o 'address=http://[^ ]*' "$log" | head -1 | cut -d= -f2 || true)
    if [ -z "$address" ] || ! curl -fs "$address/_health" | grep -q '"status" *: *"ok"'; then
      kill $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true
      echo "FAIL serve $name:"; cat "$log"; curl -s "$address/_health" || true; exit 1
    fi
    kill -TERM $daemon
    status=0; wait $daemon || status=$?
    [ $status = 0 ] || { echo "FAIL serve $name: exit status $status"; cat "$log"; exit 1; }
    checked=$n
  done
done
echo "examples: $checked configurations checked and served, 0 failed"
