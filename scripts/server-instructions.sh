#!/usr/bin/env bash
# User-space instructions a setPresence costs the reference server, next to the trivial axum
# handler, under callgrind: the steady figure behind the noisy wall-clock ratio of bench-http.sh.
# wrk sends setPresence for 100 users (writes update rather than insert, so runs compare) for
# DURATION (6 s by default) to each server running under valgrind; the inclusive cost of axum's
# connection tasks is divided by the requests answered. Needs wrk and valgrind (Debian): they are
# installed with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
need wrk valgrind
DURATION=${DURATION:-6s}
cargo build --release --quiet --bin presence-conformance --example trivial_server

work=$(mktemp -d)

measure() { # name port command...
  local name=$1 port=$2; shift 2
  valgrind --tool=callgrind --callgrind-out-file="$work/$name.out" "$@" >/dev/null 2>&1 &
  local pid=$!
  wait_port "$port" || true
  local requests
  requests=$(USERS=100 wrk -t1 -c4 -d"$DURATION" -s "$SETPRESENCE_LUA" "http://127.0.0.1:$port" | awk '/requests in/ { print $1 }')
  kill "$pid"; wait "$pid" 2>/dev/null || true
  callgrind_annotate --inclusive=yes "$work/$name.out" 2>/dev/null |
    awk -v n="$requests" '/handle_connection::\{\{closure\}\}::\{\{closure\}\} / { gsub(/,/, "", $1); print int($1 / n), n; exit }'
}

read -r trivial trivial_n < <(measure trivial 18191 target/release/examples/trivial_server 127.0.0.1:18191)
read -r reference reference_n < <(measure reference 18192 target/release/presence-conformance serve --addr 127.0.0.1:18192 --clock virtual --no-auth --quiet)
printf '%-24s %8s instructions a request (%s requests)\n' "trivial axum handler" "$trivial" "$trivial_n"
printf '%-24s %8s instructions a request (%s requests)\n' "reference setPresence" "$reference" "$reference_n"
awk -v a="$reference" -v c="$trivial" 'BEGIN { printf "above the ceiling: %d instructions (%.2fx)\n", a - c, a / c }'
rm -rf "$work"
