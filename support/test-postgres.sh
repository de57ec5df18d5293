#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for the test suite.
#   support/test-postgres.sh start DIR PORT|auto   -> prints the URL to use
#   support/test-postgres.sh stop DIR
# initdb refuses to run as root, so as root the cluster belongs to the `postgres` user.
set -euo pipefail
cmd=$1 dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case $cmd in
start)
  port=$3 tries=1
  # PostgreSQL cannot bind port 0 and report it: with auto, a port the kernel picked is held
  # (bound, SO_REUSEADDR, not listening) until the server has bound it too, which Linux allows
  # since the postmaster sets SO_REUSEADDR; nobody else can take it in between. The retry on
  # "Address already in use" stays for a port someone bound by number.
  [ "$port" = auto ] && tries=5
  rm -rf "$dir" && mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  for try in $(seq 1 $tries); do
    p=$port
    if [ "$port" = auto ]; then
      coproc HOLD { exec python3 -c 'import signal, socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True); signal.pause()'; }
      read -r p <&"${HOLD[0]}"
    fi
    started=0
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -o \
      "-c listen_addresses=127.0.0.1 -p $p -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null && started=1
    if [ "$port" = auto ]; then kill "$HOLD_PID"; wait "$HOLD_PID" || true; fi  # releases the hold
    if [ $started = 1 ]; then
      port=$p
      break
    fi
    grep -q 'Address already in use' "$dir/postgres.log" && [ "$try" -lt "$tries" ] && continue
    cat "$dir/postgres.log" >&2
    exit 1
  done
  echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  ;;
stop)
  [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
esac
