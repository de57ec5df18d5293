#!/usr/bin/env bash
# A throwaway moto server (an independent implementation of the EC2 Query API) on 127.0.0.1.
#   support/moto.sh start DIR [PORT|auto]   -> prints the endpoint URL to use
#   support/moto.sh stop DIR                -> stops it by its pid, removes DIR
# With MOTO_OWNER_PID set, moto also stops when that process ends (tests that start their
# own moto cannot leave it behind after a crash).
set -euo pipefail
cmd=$1 dir=$2
case $cmd in
start)
  port=${3:-auto}
  python3 -c 'import moto.server, flask' 2>/dev/null || python3 -m pip install -q 'moto[ec2,server]' >&2
  # auto: moto binds port 0 and its log says which port it got (no "free port" another
  # process could take before moto binds it).
  [ "$port" = auto ] && port=0
  mkdir -p "$dir"
  # Its own session, and an empty signal mask: a parent that blocks SIGTERM in its threads (a
  # Swift test process does) would otherwise hand that mask down and moto could not be stopped.
  setsid python3 -c 'import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execvp(sys.argv[1], sys.argv[1:])' \
    moto_server -H 127.0.0.1 -p "$port" >"$dir/moto.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/moto.pid"
  if [ -n "${MOTO_OWNER_PID:-}" ]; then
    ( while kill -0 "$MOTO_OWNER_PID" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 1; done
      kill "$pid" 2>/dev/null; rm -rf "$dir" ) \
      >/dev/null 2>&1 </dev/null &
  fi
  for _ in $(seq 1 600); do
    if [ "$port" = 0 ]; then
      port=$(sed -n 's|.*Running on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$dir/moto.log" | head -1)
      port=${port:-0}
    fi
    if [ "$port" != 0 ] && curl -fs -o /dev/null "http://127.0.0.1:$port/moto-api/"; then echo "http://127.0.0.1:$port"; exit 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "moto did not start on port $port:" >&2; cat "$dir/moto.log" >&2
  kill "$pid" 2>/dev/null || true
  exit 1
  ;;
stop)
  if [ -f "$dir/moto.pid" ]; then
    pid=$(cat "$dir/moto.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
  ;;
*) echo "usage: $0 start DIR [PORT|auto] | stop DIR" >&2; exit 2 ;;
esac
