#!/usr/bin/env bash
# A cold build of the README's two commands, as a new user meets it: a fresh clone of HEAD in a
# temporary directory, an empty target/, the cargo registry already downloaded (so the network is
# not measured). Prints the load, then
#   run --release: first case after S s   (the build, until cargo starts the binary)
#   run --release: total S s              (build and the whole suite)
#   cargo test: total S s                 (the debug build and every test, after the release build)
# Run it on a quiet machine: it measures compile time, which every other process on the cores
# slows. RUNS=3 scripts/cold-build.sh repeats it and prints the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-1}
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR RUSTC_WRAPPER
export CARGO_TERM_COLOR=never

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Download every crate once, outside the timings.
cargo fetch --quiet

head=$(git rev-parse HEAD)
results=$(mktemp)
for i in $(seq "$RUNS"); do
  clone=$(mktemp -d)
  git clone --quiet --no-hardlinks . "$clone/presence-conformance"
  git -C "$clone/presence-conformance" checkout --quiet "$head"
  cd "$clone/presence-conformance"
  echo "round $i of $RUNS, $head in $clone"
  echo "load: $(uptime)"

  # `cargo run` writes "Running `target/release/...`" to stderr the moment the build is done.
  start=$(now)
  first=""
  while IFS= read -r line; do
    if [ -z "$first" ] && [[ "$line" == *"Running \`"* ]]; then first=$(since "$start"); fi
  done < <(cargo run --release -- run --quiet 2>&1 >/dev/null)
  run_total=$(since "$start")
  echo "run --release: first case after ${first:-?} s"
  echo "run --release: total $run_total s"

  start=$(now)
  cargo test --quiet > "$clone/test.log" 2>&1 || { echo "cargo test failed, see $clone/test.log"; exit 1; }
  test_total=$(since "$start")
  echo "cargo test: total $test_total s"
  echo "both in a row: $(awk -v a="$run_total" -v b="$test_total" 'BEGIN { printf "%.1f", a + b }') s"
  echo "load: $(uptime)"
  echo "$first $run_total $test_total" >> "$results"
  cd - > /dev/null
  rm -rf "$clone"
done

if [ "$RUNS" -gt 1 ]; then
  echo "medians of $RUNS:"
  echo "  run --release: first case after $(awk '{ print $1 }' "$results" | median) s"
  echo "  cargo test: total $(awk '{ print $3 }' "$results" | median) s"
  echo "  both in a row: $(awk '{ print $2 + $3 }' "$results" | median) s"
fi
rm -f "$results"
