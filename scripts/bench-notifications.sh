#!/usr/bin/env bash
# Change notifications under load (issue 27, "Speed"), against the release build of
# `serve --clock real --no-auth`, a fresh server for each measurement, the machine's load at the top:
# 1. Deliveries per second, and the latency from a write's send to its notification's arrival:
#    examples/notification_bench.rs `deliver`, one subscription on 650 ids (Graph's most) to a
#    webhook in the driver, 8 connections writing setPresence that changes a user's aggregate each
#    time; as fast as the notifications come back, then at a steady RATE writes/s.
# 2. What a receiver that never answers costs setPresence: wrk (2 threads, 64 connections, as in
#    bench-http.sh) writing the 650 users, every write a change, with no subscription; with the 650
#    subscribed to a receiver that accepts the connection and never answers; to one that answers
#    500; to one that answers 202 at once. The four alternate, RUNS rounds; each subscribed rate is
#    divided by the unsubscribed rate of its own round, and the median of those ratios is quoted.
#   scripts/bench-notifications.sh         RUNS=1 DURATION=5s scripts/bench-notifications.sh
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
need wrk
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
RATE=${RATE:-2000}
THREADS=2
CONNECTIONS=64
BIN=${BIN:-target/release/presence-conformance}
BENCH=${BENCH:-target/release/examples/notification_bench}
[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet --bin presence-conformance --example notification_bench || { echo "build failed"; exit 1; }
work=$(mktemp -d)
server=""
receivers=()
trap 'for p in $server "${receivers[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

start_server() { # sets $server and $url
  "$BIN" serve --addr 127.0.0.1:0 --clock real --no-auth --quiet 2> "$work/banner" > /dev/null &
  server=$!
  for _ in $(seq 50); do grep -q "http://" "$work/banner" 2>/dev/null && break; sleep 0.1; done
  url=$(grep -o 'http://[0-9.:]*' "$work/banner" | head -1)
  [ -n "$url" ] || { echo "serve did not start: $(cat "$work/banner")"; exit 1; }
}
stop_server() {
  kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; server=""
}

start_receiver() { # mode: sets $receiver_url
  "$BENCH" receiver --mode "$1" > "$work/receiver-$1" 2>&1 &
  receivers+=($!)
  for _ in $(seq 50); do grep -q "http://" "$work/receiver-$1" 2>/dev/null && break; sleep 0.1; done
  receiver_url=$(grep -o 'http://[^ ]*' "$work/receiver-$1" | head -1)
}

# One wrk run of setPresence on a fresh server, the 650 users subscribed to $1 (none: not at all).
# Prints: req/s non-2xx server-RSS-MiB
wrk_round() { # receiver-url|none
  start_server
  if [ "$1" != none ]; then
    "$BENCH" subscribe --server "$url" --url "$1" --users 650 --prefix a0000000 > /dev/null \
      || { echo "0 subscribe-failed 0"; stop_server; return; }
  fi
  USERS=650 THREADS=$THREADS wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" \
    -s scripts/lib/setpresence-changes.lua "$url" > "$work/wrk.txt" 2>&1
  local rss
  rss=$(awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$server/status")
  stop_server
  local rps errors
  rps=$(awk '/Requests\/sec/ { print $2 }' "$work/wrk.txt")
  errors=$(awk '/Non-2xx/ { print $NF }' "$work/wrk.txt")
  echo "${rps:-0} ${errors:-0} ${rss:-0}"
}

deliver() { # extra arguments for `deliver`
  start_server
  "$BENCH" deliver --server "$url" --server-pid "$server" --seconds "${DURATION%s}" "$@"
  stop_server
}

echo "load: $(uptime)"
start_receiver hang; hang=$receiver_url
start_receiver fail; fail=$receiver_url
start_receiver accept; accept=$receiver_url
[ -n "$hang" ] && [ -n "$fail" ] && [ -n "$accept" ] || { echo "a receiver did not start"; exit 1; }

for i in $(seq "$RUNS"); do
  deliver > "$work/fast-$i.txt" 2>&1
  deliver --rate "$RATE" > "$work/steady-$i.txt" 2>&1
  read -r none none_errors none_rss < <(wrk_round none)
  read -r hung hung_errors hung_rss < <(wrk_round "$hang")
  read -r failing failing_errors failing_rss < <(wrk_round "$fail")
  read -r accepting accepting_errors accepting_rss < <(wrk_round "$accept")
  echo "$none $hung $failing $accepting" >> "$work/wrk-runs"
  printf 'round %s: setPresence req/s (non-2xx, server RSS MiB): none %s (%s, %s), hung %s (%s, %s), 500 %s (%s, %s), 202 %s (%s, %s)\n' \
    "$i" "$none" "$none_errors" "$none_rss" "$hung" "$hung_errors" "$hung_rss" \
    "$failing" "$failing_errors" "$failing_rss" "$accepting" "$accepting_errors" "$accepting_rss"
  sed 's/^/  /' "$work/fast-$i.txt" "$work/steady-$i.txt"
done
echo "load: $(uptime)"

# "notifications (...): W writes/s, D deliveries/s, latency p50 A ms p99 B ms max C ms"
field() { # file-glob word-before-value
  cat $1 | awk -v k="$2" '/^notifications/ { for (i = 1; i < NF; i++) if ($(i + 1) == k) print $i }'
}
lat() { # file-glob p50|p99
  cat $1 | awk -v k="$2" '/^notifications/ { for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'
}
ratio() { # column
  awk -v c="$1" '$1 > 0 { print 100 * $c / $1 }' "$work/wrk-runs" | median
}
rate() { # column
  awk -v c="$1" '{ print $c }' "$work/wrk-runs" | median
}
printf 'notifications, as fast as notified (650 users, 1 subscription): %s deliveries/s, p50 %s ms, p99 %s ms\n' \
  "$(field "$work/fast-*.txt" 'deliveries/s,' | median)" "$(lat "$work/fast-*.txt" p50 | median)" "$(lat "$work/fast-*.txt" p99 | median)"
printf 'notifications, steady %s writes/s (650 users, 1 subscription): %s deliveries/s, p50 %s ms, p99 %s ms\n' \
  "$RATE" "$(field "$work/steady-*.txt" 'deliveries/s,' | median)" "$(lat "$work/steady-*.txt" p50 | median)" "$(lat "$work/steady-*.txt" p99 | median)"
printf 'setPresence, no subscription (wrk, %s): %s req/s\n' "$DURATION" "$(rate 1)"
printf 'setPresence, hung receiver / no subscription, per round: %.1f%% (%s req/s)\n' "$(ratio 2)" "$(rate 2)"
printf 'setPresence, receiver answering 500 / no subscription, per round: %.1f%% (%s req/s)\n' "$(ratio 3)" "$(rate 3)"
printf 'setPresence, receiver answering 202 / no subscription, per round: %.1f%% (%s req/s)\n' "$(ratio 4)" "$(rate 4)"
