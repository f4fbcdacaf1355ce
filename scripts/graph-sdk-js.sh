#!/usr/bin/env bash
# Microsoft's JavaScript Graph SDKs (pinned in tests/sdk/js/package-lock.json, with Express: the
# typed @microsoft/msgraph-sdk with @microsoft/msgraph-sdk-users and -subscriptions, and the thin
# client @microsoft/microsoft-graph-client) drive the reference server through
# tests/sdk/graph_sdk_scenario.mjs: setPresence with the SDK's Duration, the fade through the
# control protocol, two sessions aggregated, preferred presence, clearUserPreferredPresence as the
# SDK sends it, setStatusMessage, getPresencesByUserId, and errors as ODataError and GraphError.
# Run twice: against `serve --no-auth`, then with tokens from the server's token endpoint. With
# tokens, tests/sdk/webhook_express.mjs follows: a webhook receiver written with Express gets the
# notifications of the fade (+5 and +10 minutes after a write) of a presence subscription made
# with @microsoft/msgraph-sdk-subscriptions. The
# SDKs are installed with `npm ci` into target/graph-sdk-js/ (nothing global); each server is
# started with a virtual clock on a free 127.0.0.1 port, and stopped. Exits non-zero on any failed
# step. PRESENCE_CONFORMANCE=/path/to/presence-conformance skips the build and uses that binary.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
sdk=$CARGO_TARGET_DIR/graph-sdk-js
started=$SECONDS

command -v node >/dev/null || { echo "graph-sdk-js: node (20 or later) and npm are needed" >&2; exit 1; }
if ! cmp -s tests/sdk/js/package-lock.json "$sdk/package-lock.json" || [ ! -d "$sdk/node_modules" ]; then
  rm -rf "$sdk"
  mkdir -p "$sdk"
  cp tests/sdk/js/package.json tests/sdk/js/package-lock.json "$sdk/"
  (cd "$sdk" && npm ci --silent --no-audit --no-fund)
fi
# Node resolves the scenario's imports from the directory it lives in.
cp tests/sdk/graph_sdk_scenario.mjs tests/sdk/webhook_express.mjs "$sdk/"

binary=${PRESENCE_CONFORMANCE:-}
if [ -z "$binary" ]; then
  cargo build --quiet --bin presence-conformance
  binary=$CARGO_TARGET_DIR/debug/presence-conformance
fi

server=
stop() { [ -z "$server" ] || { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }; server=; }
trap stop EXIT
for mode in --no-auth ""; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$binary" serve --addr "127.0.0.1:$port" --clock virtual --quiet --config tests/sdk/graph_sdk_js.toml ${mode:+"$mode"} &
  server=$!
  up=
  for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$port/_conformance/clock" && { up=1; break; }
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$up" ] || { echo "graph-sdk-js: $binary serve did not come up on 127.0.0.1:$port (exited, or no answer within 5 s)" >&2; exit 1; }
  node "$sdk/graph_sdk_scenario.mjs" ${mode:+"$mode"} "http://127.0.0.1:$port"
  [ -n "$mode" ] || node "$sdk/webhook_express.mjs" "http://127.0.0.1:$port"
  stop
done
versions=$(cd "$sdk" && node -e 'for (const p of ["@microsoft/msgraph-sdk", "@microsoft/msgraph-sdk-users", "@microsoft/msgraph-sdk-subscriptions", "@microsoft/microsoft-graph-client", "express"]) console.log(`${p}@${require(`./node_modules/${p}/package.json`).version}`)' | paste -sd' ')
echo "graph-sdk-js: $versions against serve --clock virtual, --no-auth and tokens ($((SECONDS - started))s)"
