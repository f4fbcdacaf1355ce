#!/usr/bin/env bash
# Every schemathesis check against the reference server, without auth and with auth.
#
# Schemathesis (pinned) is installed into a venv under target/. Our spec is first exported as the
# contract the server keeps (`presence-conformance spec export --strictness documented`: the
# documented layer as JSON Schema), then `schemathesis run --checks all` runs the phases examples,
# fuzzing and stateful (PHASES; the coverage phase is left out unless PHASES names it), with
# bounded examples and a fixed seed, against:
#   1. `serve --clock virtual --no-auth` (v1.0 and beta documents);
#   2. `serve --clock virtual` with an app token from the server's own token endpoint
#      (client credentials, the default config's app), sessionId = that app's id. With an app-only
#      token every /me operation answers its declared 400, so there (only) 400 counts as the
#      expected answer to valid data.
# The change-notification operations (/subscriptions) are left out: their limits (an expiration
# within the next 60 minutes, the presence resource grammar, a notification URL that must answer
# the validation handshake) are not JSON Schema, so schemathesis's "valid" bodies are refused;
# tests/it/subscriptions_http.rs and fuzz/fuzz_targets/subscription_body.rs cover them.
# The server is started on a free 127.0.0.1 port and stopped. Exits non-zero on any failure.
# EXAMPLES (default 25) bounds the examples per operation; extra arguments go to every run.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=4.32.5
EXAMPLES=${EXAMPLES:-25}
PHASES=${PHASES:-examples,fuzzing,stateful}
TENANT=8f1b5a3c-0d4e-4c55-9a7e-5e1d0c2b3a41
CLIENT_ID=11111111-2222-4333-8444-555555555555
CLIENT_SECRET=local-development-secret
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
venv=$CARGO_TARGET_DIR/venv-schemathesis
work=$CARGO_TARGET_DIR/schemathesis
started=$SECONDS

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi
cargo build --quiet --bin presence-conformance
mkdir -p "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

server=
stop() { if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=; fi; }
trap stop EXIT
start() { # start [serve options...]: sets $port and $server, waits until it answers
  port=$(free_port)
  "$bin" serve --addr "127.0.0.1:$port" --clock virtual --quiet "$@" &
  server=$!
  for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$port/_conformance/clock" && return 0
    sleep 0.1
  done
  echo "schemathesis.sh: the server did not start" >&2
  exit 1
}

# With an app-only token, /me is refused with its declared 400 (spec: meWithoutSignedInUser).
cat > "$work/auth.toml" <<TOML
[[operations]]
include-path-regex = "^/me/"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404"]
TOML

failed=0
summary=()
run() { # run LABEL VERSION VIEW [schemathesis options...]
  local label=$1 version=$2 view=$3
  shift 3
  local log="$work/$label.log"
  set +e
  "$venv/bin/schemathesis" "${config[@]}" run "$view" \
    --url "http://127.0.0.1:$port/$version" \
    --checks all \
    --phases "$PHASES" \
    --max-examples "$EXAMPLES" \
    --seed 1 \
    --workers 2 \
    --request-timeout 5 \
    --exclude-path-regex '^/subscriptions' \
    --no-color \
    "$@" "${EXTRA[@]}" >"$log" 2>&1
  local rc=$?
  set -e
  local line
  line=$(grep -E "^=+ .* in [0-9.]+s =+$" "$log" | tail -1 | tr -d '=' | sed 's/^ *//; s/ *$//' || true)
  local cases
  cases=$(grep -E "^  [0-9]+ generated" "$log" | tail -1 | sed 's/^ *//' || true)
  summary+=("$label: ${line:-no summary} (${cases:-?}) exit $rc")
  if [ "$rc" -ne 0 ]; then
    failed=1
    sed -n '/^=* FAILURES =*$/,/^=* SUMMARY =*$/p' "$log" | head -120
    grep -E "^(Error|  .*Error)" "$log" | head -20 || true
  fi
}
EXTRA=("$@")

bin=$CARGO_TARGET_DIR/debug/presence-conformance
for version in v1.0 beta; do
  "$bin" spec export --strictness documented --version "$version" --output "$work/view-$version.json"
  "$bin" spec export --strictness documented --version "$version" --session-id "$CLIENT_ID" --output "$work/view-$version-auth.json"
done

config=()
start --no-auth
run no-auth-v1.0 v1.0 "$work/view-v1.0.json"
run no-auth-beta beta "$work/view-beta.json"
stop

start
token=$(curl -sf -X POST "http://127.0.0.1:$port/$TENANT/oauth2/v2.0/token" \
  -d grant_type=client_credentials -d "client_id=$CLIENT_ID" -d "client_secret=$CLIENT_SECRET" \
  --data-urlencode scope=https://graph.microsoft.com/.default |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
config=(--config-file "$work/auth.toml")
run auth-v1.0 v1.0 "$work/view-v1.0-auth.json" -H "Authorization: Bearer $token"
run auth-beta beta "$work/view-beta-auth.json" -H "Authorization: Bearer $token"
stop

echo "schemathesis $VERSION, --checks all, phases $PHASES, $EXAMPLES examples, seed 1 ($((SECONDS - started))s):"
printf '  %s\n' "${summary[@]}"
exit "$failed"
