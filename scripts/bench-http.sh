#!/usr/bin/env bash
# setPresence throughput of the reference server on loopback, with the rate of a trivial handler on
# the same axum stack beside it as the ceiling, in one run on this machine. Needs wrk (Debian): it
# is installed with apt-get when missing. PRISM=1 also measures Prism 5.14.2 mocking our v1.0 spec
# (npm @stoplight/prism-cli, installed under target/prism), when npm is there.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
need wrk
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
PRISM_VERSION=5.14.2
cargo build --release --quiet --bin presence-conformance --example trivial_server

run() { # name port [prefix [bearer]]
  env PREFIX="${3-/v1.0}" BEARER="${4-}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$SETPRESENCE_LUA" "http://127.0.0.1:$2" > "/tmp/bench-$1.txt"
  local rps p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' "/tmp/bench-$1.txt")
  p99=$(awk '$1 == "99%" {print $2}' "/tmp/bench-$1.txt")
  errors=$(awk '/Non-2xx/ {print $NF}' "/tmp/bench-$1.txt")
  echo "$1 $rps $p99 ${errors:-0}"
}

pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done' EXIT
target/release/examples/trivial_server 127.0.0.1:18181 2>/dev/null & pids+=($!)
target/release/presence-conformance serve --addr 127.0.0.1:18182 --clock virtual --no-auth --quiet 2>/dev/null & pids+=($!)
wait_port 18181 && wait_port 18182
read -r _ ceiling ceiling_p99 ceiling_errors < <(run trivial 18181)
read -r _ actual actual_p99 actual_errors < <(run reference 18182)
printf '%-28s %12s req/s   p99 %-9s non-2xx %s\n' "trivial axum handler" "$ceiling" "$ceiling_p99" "$ceiling_errors"
printf '%-28s %12s req/s   p99 %-9s non-2xx %s\n' "reference setPresence" "$actual" "$actual_p99" "$actual_errors"
awk -v a="$actual" -v c="$ceiling" 'BEGIN { printf "ratio: %.0f%% of the ceiling\n", 100 * a / c }'

if [ "${PRISM:-0}" = 1 ]; then
  prism=target/prism/node_modules/.bin/prism
  if [ ! -x "$prism" ] && command -v npm >/dev/null; then
    npm install --silent --no-audit --no-fund --prefix target/prism "@stoplight/prism-cli@$PRISM_VERSION" >/dev/null 2>&1 || true
  fi
  if [ -x "$prism" ]; then
    "$prism" mock --port 18183 --host 127.0.0.1 spec/graph-presence.v1.0.openapi.yaml >/dev/null 2>&1 & pids+=($!)
    if wait_port 18183; then
      read -r _ mocked mocked_p99 mocked_errors < <(run prism 18183 "" bench-token)
      printf '%-28s %12s req/s   p99 %-9s non-2xx %s\n' "prism $PRISM_VERSION mock" "$mocked" "$mocked_p99" "$mocked_errors"
    else
      echo "prism: did not start"
    fi
  else
    echo "prism: not installed"
  fi
fi
