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
  # PostgreSQL cannot bind port 0 and report it: with auto, a port that was free a moment ago,
  # and another when someone took it first.
  [ "$port" = auto ] && tries=5
  rm -rf "$dir" && mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  for try in $(seq 1 $tries); do
    p=$port
    [ "$port" = auto ] && p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -o \
      "-c listen_addresses=127.0.0.1 -p $p -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null; then
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
