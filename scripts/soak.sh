#!/usr/bin/env bash
# Bounded load and soak on loopback: wrk sends setPresence for 100,000 users (five-minute
# sessions) for MINUTES minutes to a real-clock server running 60x, so sessions expire every
# five wall seconds. The server's RSS is sampled while the load runs and after it ends: it must
# level off instead of growing, because expired sessions are freed. Needs wrk (Debian).
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${MINUTES:-3}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --quiet --bin presence-conformance
script=$(mktemp --suffix .lua)
cat > "$script" <<'LUA'
local counter = 0
request = function()
  counter = counter + 1
  local user = string.format("a0000000-0000-4000-8000-%012x", counter % 100000)
  local body = '{"sessionId":"11111111-2222-4333-8444-555555555555","availability":"Available","activity":"Available","expirationDuration":"PT5M"}'
  return wrk.format("POST", "/v1.0/users/" .. user .. "/presence/setPresence", {["Content-Type"] = "application/json"}, body)
end
LUA
target/release/presence-conformance serve --addr 127.0.0.1:18183 --clock real --time-scale 60 --no-auth --quiet &
server=$!
trap 'kill $server 2>/dev/null' EXIT
sleep 1
rss() { awk '/VmRSS/ {printf "%.0f MiB", $2 / 1024}' "/proc/$server/status"; }
echo "before load: $(rss)"
wrk -t2 -c64 -d"${MINUTES}m" --latency -s "$script" http://127.0.0.1:18183 > /tmp/soak-wrk.txt &
load=$!
for ((i = 1; i <= MINUTES * 6; i++)); do
  sleep 10
  echo "after $((i * 10)) s of load: $(rss)"
done
wait $load
grep -E "Requests/sec|99%|requests in|Non-2xx" /tmp/soak-wrk.txt
sleep 6
# One read settles every expired session (the server frees state on its next request).
curl -s -o /dev/null "http://127.0.0.1:18183/v1.0/users/a0000000-0000-4000-8000-000000000001/presence"
echo "6 s after the load (every session expired): $(rss)"
