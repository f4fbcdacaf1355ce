#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 600) on the seeded corpus, two at a time, and
# prints executions, coverage and any crash. Needs cargo-fuzz; RUSTC_BOOTSTRAP unlocks the
# sanitizer flags on the stable toolchain.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH=${SECONDS:-600}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
[ -d corpus/case_file ] || bash seed-corpus.sh
export RUSTC_BOOTSTRAP=1
run() {
  cargo fuzz run -O "$1" "corpus/$1" -- -max_total_time="$SECONDS_EACH" -print_final_stats=1 > "logs/$1.log" 2>&1 || echo "$1: CRASHED (see fuzz/logs/$1.log and fuzz/artifacts/$1)"
  grep -E "stat::number_of_executed_units|cov: " "logs/$1.log" | tail -2 | sed "s/^/$1: /"
}
mkdir -p logs
cargo fuzz build -O
run duration & run action_body & wait
run case_file & run contract & wait
run subscription_body & wait
