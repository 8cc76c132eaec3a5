#!/usr/bin/env bash
# `passdesk bench sync` against a hub on PostgreSQL: a throwaway cluster (Debian's postgresql,
# initdb + pg_ctl in a temp dir as the postgres user, on a free loopback port, trust auth, its
# socket in its own dir: never the system service), an empty database on it, the release
# build's bench, then the cluster stopped and removed. Arguments go to the bench
# (e.g. --passes 100000 --nodes 20). The same logic as tests/src/postgres.rs, in shell.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/toolchain.sh
. scripts/lib/apt.sh

pg_bin="${PASSDESK_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}"
[ -x "$pg_bin/initdb" ] || { echo "no PostgreSQL server in $pg_bin (set PASSDESK_PG_BIN)" >&2; exit 1; }

# The server refuses to run as root: as root, every server command runs as postgres.
as_server() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

work=$(mktemp -d /tmp/passdesk-bench-pg.XXXXXX)
[ "$(id -u)" -eq 0 ] && chown postgres: "$work"
cleanup() {
  as_server "$pg_bin/pg_ctl" -D "$work/data" -m immediate -w stop > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_server "$pg_bin/initdb" -D "$work/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync > /dev/null
# Durability as a real deployment has it (fsync on): the bench measures the hub, not a shortcut.
as_server "$pg_bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 60 \
  -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c max_connections=200" start > /dev/null
"$pg_bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -X -q -c "CREATE DATABASE bench"

cargo build --release --locked -p passdesk
data="$work/counter-data"
mkdir -p "$data"
target/release/passdesk --data-dir "$data" bench sync \
  --database "postgres://postgres@127.0.0.1:$port/bench" "$@"
