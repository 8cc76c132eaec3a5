#!/usr/bin/env bash
# Load on POST /api/v1/scans: the release service on a fresh demo data dir, wrk on loopback for
# DURATION seconds (default 30) with CONNECTIONS connections (default 16). Prints wrk's report
# (throughput, latency percentiles) and the service's cold start. Every request is a durable
# decision (synchronous=FULL).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/toolchain.sh
command -v wrk > /dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk; }
cargo build --release --locked -p passdesk
bin="$PWD/target/release/passdesk"
data=$(mktemp -d)
trap 'kill "$pid" 2> /dev/null || true; rm -rf "$data"' EXIT
"$bin" --data-dir "$data" demo > /dev/null
key=$("$bin" --data-dir "$data" keys create --role reader --name load | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
"$bin" --data-dir "$data" serve --listen 127.0.0.1:0 --no-readers > "$data/ready.json" &
pid=$!
for _ in $(seq 100); do [ -s "$data/ready.json" ] && break; sleep 0.1; done
url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listening"])' "$data/ready.json")
echo "service ready in $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["readyMs"])' "$data/ready.json") ms at $url"
PASSDESK_KEY="$key" wrk -t2 -c"${CONNECTIONS:-16}" -d"${DURATION:-30}s" --latency -s scripts/load/scans.lua "$url"
echo "scans recorded: $("$bin" --data-dir "$data" scans list --limit 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["meta"]["totalCount"])')"
