#!/usr/bin/env bash
# A real-clock run packed against its lower bound: `serve --clock real --time-scale 600` with
# targets/local.server.toml, and the suite run against it through targets/local.toml on a real
# clock at x600 with its 8 pooled users. Prints the load, then for each of RUNS runs (3 by
# default) the `real clock:` line of `run` (the wall time, its lower bound
# max(longest case, case time x users / pooled users) and the ratio), then the median ratio.
# The goal of issue 29: wall time <= 1.25 x bound + 1 s.
#   scripts/bench-real-clock.sh           RUNS=1 scripts/bench-real-clock.sh
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
BIN=${BIN:-target/release/presence-conformance}
[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet --bin presence-conformance || { echo "build failed"; exit 1; }
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

"$BIN" serve --addr 127.0.0.1:0 --clock real --time-scale 600 --config targets/local.server.toml \
  --quiet 2> "$work/banner" > /dev/null &
server=$!
for _ in $(seq 50); do grep -q "http://" "$work/banner" 2>/dev/null && break; sleep 0.1; done
addr=$(grep -o 'http://[0-9.:]*' "$work/banner" | head -1)
[ -n "$addr" ] || { echo "serve did not start"; cat "$work/banner"; exit 1; }
sed -e "s#http://127.0.0.1:8080#$addr#g" \
    -e 's#^clock = "virtual"#clock = "real"\ntime_scale = 600\nconcurrency = 8#' \
    targets/local.toml > "$work/real.toml"

echo "load: $(uptime)"
for i in $(seq "$RUNS"); do
  "$BIN" run --quiet --target "$work/real.toml" --snapshots off > "$work/run-$i.txt" 2>&1
  line=$(grep '^real clock:' "$work/run-$i.txt")
  echo "run $i: ${line:-no real clock line} ($(grep -E '^[0-9]+ passed' "$work/run-$i.txt"))"
  # "real clock: W s of wall time, Rx its lower bound B s = ..."
  echo "$line" | awk '{ print $3, $12, ($3 <= 1.25 * $12 + 1) ? "within" : "over" }' >> "$work/runs"
done
echo "load: $(uptime)"
wall=$(awk '{ print $1 }' "$work/runs" | median)
bound=$(awk '{ print $2 }' "$work/runs" | median)
within=$(grep -c within "$work/runs")
echo "real clock x600, 8 users: median wall $wall s, bound $bound s, goal 1.25 x bound + 1 s; $within of $RUNS runs within"
