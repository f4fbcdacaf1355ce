#!/usr/bin/env bash
# setPresence throughput of the reference server on loopback, with the rate of a trivial handler on
# the same axum stack beside it as the ceiling, in one run on this machine. Needs wrk (Debian).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
cargo build --release --quiet --bin presence-conformance --example trivial_server

script=$(mktemp --suffix .lua)
cat > "$script" <<'LUA'
-- setPresence for 10,000 users, sessionId fixed (the server runs --no-auth).
local counter = 0
request = function()
  counter = counter + 1
  local user = string.format("a0000000-0000-4000-8000-%012x", counter % 10000)
  local body = '{"sessionId":"11111111-2222-4333-8444-555555555555","availability":"Busy","activity":"InACall","expirationDuration":"PT1H"}'
  return wrk.format("POST", "/v1.0/users/" .. user .. "/presence/setPresence", {["Content-Type"] = "application/json"}, body)
end
LUA

run() { # name port
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$script" "http://127.0.0.1:$2" > "/tmp/bench-$1.txt"
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "/tmp/bench-$1.txt")
  p99=$(awk '$1 == "99%" {print $2}' "/tmp/bench-$1.txt")
  echo "$1 $rps $p99"
}

target/release/examples/trivial_server 127.0.0.1:18181 2>/dev/null & trivial=$!
target/release/presence-conformance serve --addr 127.0.0.1:18182 --clock virtual --no-auth --quiet 2>/dev/null & reference=$!
trap 'kill $trivial $reference 2>/dev/null' EXIT
sleep 1
read -r _ ceiling ceiling_p99 < <(run trivial 18181)
read -r _ actual actual_p99 < <(run reference 18182)
printf '%-28s %12s req/s   p99 %s\n' "trivial axum handler" "$ceiling" "$ceiling_p99"
printf '%-28s %12s req/s   p99 %s\n' "reference setPresence" "$actual" "$actual_p99"
awk -v a="$actual" -v c="$ceiling" 'BEGIN { printf "ratio: %.0f%% of the ceiling\n", 100 * a / c }'
