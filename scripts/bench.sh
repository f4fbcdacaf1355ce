#!/usr/bin/env bash
# Every ratio of issue 16 in one run, and issue 27's notification figures, with the machine's load
# at the top. Each figure is measured RUNS times (3 by default) and the median is quoted. Missing
# tools (wrk, npm) are reported, not fatal.
#   scripts/bench.sh            RUNS=1 DURATION=5s scripts/bench.sh   (a quicker look)
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
export DURATION=${DURATION:-10s}
log=$(mktemp -d)

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "load: $(uptime)"
echo "each figure: median of $RUNS runs"
cargo build --release --quiet --bin presence-conformance --example notification_bench || { echo "build failed"; exit 1; }

# explore timelines/s
for i in $(seq "$RUNS"); do
  target/release/presence-conformance explore --timelines 5000 --seed 1 > "$log/explore-$i.txt" 2>&1
  grep -o '[0-9.]* timelines/s' "$log/explore-$i.txt" | awk '{ print $1 }'
done | median > "$log/explore"

# the suite: wall time and simulated/wall
for i in $(seq "$RUNS"); do
  target/release/presence-conformance run --quiet > "$log/run-$i.txt" 2>&1
  sed -n 's/^simulated time: .* in \([0-9.]*\) s of wall time (\([0-9.]*\)x)$/\1 \2/p' "$log/run-$i.txt"
done > "$log/run"
suite_wall=$(awk '{ print $1 }' "$log/run" | median)
suite_ratio=$(awk '{ print $2 }' "$log/run" | median)

# HTTP: the reference server's share of the axum ceiling, and Prism
http_note=""
for i in $(seq "$RUNS"); do
  PRISM=1 scripts/bench-http.sh > "$log/http-$i.txt" 2>&1
  status=$?
  if [ "$status" -ne 0 ]; then
    http_note=$(grep -m1 -E 'not installed|error' "$log/http-$i.txt" || echo "bench-http.sh failed ($status)")
    break
  fi
done
rate() { awk -v k="$1" 'index($0, k) == 1 { for (i = 1; i <= NF; i++) if ($(i + 1) == "req/s") print $i }' "$2"; }
if [ -z "$http_note" ]; then
  # Ratios are taken within each run (server and ceiling measured back to back), then the median.
  for f in "$log"/http-*.txt; do
    c=$(rate "trivial axum handler" "$f"); a=$(rate "reference setPresence" "$f"); p=$(rate "prism " "$f")
    echo "$c $a ${p:-0}"
  done > "$log/http"
  ceiling=$(awk '{ print $1 }' "$log/http" | median)
  server=$(awk '{ print $2 }' "$log/http" | median)
  share=$(awk '{ print 100 * $2 / $1 }' "$log/http" | median)
  prism=$(awk '$3 > 0 { print $3 }' "$log/http" | median)
  multiple=$(awk '$3 > 0 { print $2 / $3 }' "$log/http" | median)
  prism_note=$(grep -h -m1 '^prism:' "$log"/http-*.txt | head -1)
fi

# a real-clock run against its lower bound (serve --clock real --time-scale 600, 8 pooled users)
NO_BUILD=1 RUNS=$RUNS scripts/bench-real-clock.sh > "$log/real-clock.txt" 2>&1
real_clock=$(sed -n 's/^real clock x600, 8 users: //p' "$log/real-clock.txt")

# change notifications: deliveries/s, write-to-delivery latency, a hung receiver's cost to
# setPresence (RUNS rounds within the one run of bench-notifications.sh)
NO_BUILD=1 RUNS=$RUNS scripts/bench-notifications.sh > "$log/notifications.txt" 2>&1
notified() { # the summary line's start: prints what follows the colon
  awk -v k="$1" 'index($0, k) == 1 { sub(/^[^:]*: /, ""); print; exit }' "$log/notifications.txt"
}

# memory per user
for i in $(seq "$RUNS"); do
  cargo bench --quiet --bench server 2> /dev/null > "$log/mem-$i.txt"
  sed -n 's/^memory: .*: \([0-9.]*\) MiB RSS (\([0-9.]*\) bytes a user).*/\1 \2/p' "$log/mem-$i.txt"
done > "$log/mem"
mem_mib=$(awk '{ print $1 }' "$log/mem" | median)
mem_user=$(awk '{ print $2 }' "$log/mem" | median)

printf '\n%-44s %s\n' "figure" "median"
printf '%-44s %s\n' "explore --timelines 5000 --seed 1" "$(cat "$log/explore") timelines/s"
printf '%-44s %s\n' "suite (run --quiet) wall time" "${suite_wall} s"
printf '%-44s %s\n' "suite simulated/wall" "${suite_ratio}x"
printf '%-44s %s\n' "real clock x600, 8 users (bench-real-clock)" "${real_clock:-failed, see $log/real-clock.txt}"
if [ -n "$http_note" ]; then
  printf '%-44s %s\n' "setPresence / trivial axum handler" "not measured: $http_note"
else
  printf '%-44s %s\n' "trivial axum handler (wrk, $DURATION)" "$ceiling req/s"
  printf '%-44s %s\n' "reference setPresence (wrk, $DURATION)" "$server req/s"
  printf '%-44s %s\n' "setPresence / trivial axum handler, per run" "$(printf '%.0f%%' "$share")"
  if [ "$prism" != "n/a" ]; then
    printf '%-44s %s\n' "prism 5.14.2 mock (wrk, $DURATION)" "$prism req/s"
    printf '%-44s %s\n' "reference / prism, per run" "$(printf '%.1fx' "$multiple")"
  else
    printf '%-44s %s\n' "reference / prism" "${prism_note:-prism: not installed}"
  fi
fi
printf '%-44s %s\n' "memory, 1M users x 2 sessions" "$mem_mib MiB RSS, $mem_user bytes a user"
printf '%-44s %s\n' "notifications, as fast as notified" "$(notified 'notifications, as fast as notified' || true)"
printf '%-44s %s\n' "notifications, steady rate" "$(notified 'notifications, steady' || true)"
printf '%-44s %s\n' "setPresence, hung receiver / none" "$(notified 'setPresence, hung receiver' || true)"
printf '%-44s %s\n' "setPresence, receiver answering 500 / none" "$(notified 'setPresence, receiver answering 500' || true)"
if [ -z "$http_note" ]; then
  echo; echo "wrk runs (2 threads, 64 connections, $DURATION each):"
  grep -h -E 'req/s|^prism:' "$log"/http-*.txt | sed 's/^/  /'
fi
echo "logs: $log"
