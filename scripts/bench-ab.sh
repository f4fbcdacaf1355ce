#!/usr/bin/env bash
# Interleaved A/B of reference-server builds against the trivial axum handler: each round runs the
# trivial handler, then each given binary (`serve --clock virtual --no-auth`), with wrk as in
# bench-http.sh (2 threads, 64 connections, setPresence for 10,000 users), and prints each build's
# share of that round's ceiling; then the median share of each build over the rounds. Alternating
# the builds minute by minute cancels most of this machine's drift, which moves one bench-http.sh
# ratio by several points from run to run.
#   scripts/bench-ab.sh OLD_BINARY NEW_BINARY        ROUNDS=9 DURATION=8s by default
# Build an older tree with `git worktree add /tmp/old <commit> && cargo build --release` there.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$#" -ge 1 ] || { echo "usage: scripts/bench-ab.sh BINARY [BINARY...]"; exit 2; }
for bin in "$@"; do
  [ -x "$bin" ] || { echo "$bin: not an executable"; exit 2; }
done
source scripts/lib/common.sh
need wrk
ROUNDS=${ROUNDS:-9}
DURATION=${DURATION:-8s}
cargo build --release --quiet --example trivial_server

pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null' EXIT
rate() { # port: requests a second over DURATION
  wrk -t2 -c64 -d"$DURATION" -s "$SETPRESENCE_LUA" "http://127.0.0.1:$1" | awk '/Requests\/sec/ { print $2 }'
}
measure() { # port command...: starts the server, measures, stops it
  local port=$1; shift
  "$@" >/dev/null 2>&1 & pid=$!
  wait_port "$port" || { echo "server on $port did not start" >&2; exit 1; }
  rate "$port"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

echo "load: $(uptime)"
shares=$(mktemp)
for round in $(seq "$ROUNDS"); do
  ceiling=$(measure 18181 target/release/examples/trivial_server 127.0.0.1:18181)
  line="round $round: trivial $ceiling req/s"
  for bin in "$@"; do
    actual=$(measure 18182 "$bin" serve --addr 127.0.0.1:18182 --clock virtual --no-auth --quiet)
    share=$(awk -v a="$actual" -v c="$ceiling" 'BEGIN { printf "%.1f", 100 * a / c }')
    echo "$bin $share" >> "$shares"
    line="$line | $bin $actual ($share%)"
  done
  echo "$line"
done
for bin in "$@"; do
  awk -v b="$bin" '$1 == b { print $2 }' "$shares" | sort -g |
    awk -v b="$bin" '{ v[NR] = $1 } END { printf "%s: median %s%% of the ceiling over %d rounds\n", b, v[int((NR + 1) / 2)], NR }'
done
rm -f "$shares"
