#!/usr/bin/env bash
# Microsoft's Graph Python SDK (msgraph-sdk, pinned) drives the reference server through
# tests/sdk/graph_sdk_scenario.py: setPresence then GET, the fade through the control protocol,
# preferred presence, setStatusMessage, getPresencesByUserId, clearPresence, and errors raised
# as ODataError with their codes; then tests/sdk/graph_sdk_subscriptions.py: a presence
# subscription created, listed, renewed and deleted through the SDK's request builders (409, 400
# past 60 minutes, 404 after the delete as ODataError), its notification received by a webhook of
# the scenario's own. The SDK is installed into a venv under target/; the server is
# started with a virtual clock and tokens on a free 127.0.0.1 port, and stopped. Exits non-zero
# on any failed step.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.65.0
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
venv=$CARGO_TARGET_DIR/venv-graph-sdk
started=$SECONDS

if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('msgraph-sdk') != '$VERSION')" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "msgraph-sdk==$VERSION"
fi
cargo build --quiet --bin presence-conformance
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$CARGO_TARGET_DIR/debug/presence-conformance" serve --addr "127.0.0.1:$port" --clock virtual --quiet &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$port/_conformance/clock" && break
  sleep 0.1
done
"$venv/bin/python" tests/sdk/graph_sdk_scenario.py "http://127.0.0.1:$port"
"$venv/bin/python" tests/sdk/graph_sdk_subscriptions.py "http://127.0.0.1:$port"
echo "graph-sdk: msgraph-sdk $VERSION against serve --clock virtual ($((SECONDS - started))s)"
