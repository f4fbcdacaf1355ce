#!/usr/bin/env bash
# A cold build of the README's two commands, as a new user meets it: a fresh clone in a temporary
# directory, an empty target/, the cargo registry already downloaded (so the network is not
# measured). The two commands are read from the clone's README (its first `cargo run` and
# `cargo test` lines), so each commit is measured with its own instructions. Prints the load, then
#   run: first case after S s   (the build, until cargo starts the binary)
#   run: total S s              (build and the whole suite)
#   test: total S s             (the README's test command after it: what is left to build, and every test)
#   test alone: total S s       (the test command again from an empty target/, as if it came first)
# Run it on a quiet machine: it measures compile time, which every other process on the cores
# slows.
#   RUNS=3 scripts/cold-build.sh                  three rounds of HEAD, then the medians
#   REVS="88870c8 HEAD" RUNS=3 scripts/cold-build.sh
#                                                 each round builds every commit in turn (paired)
#   TIMINGS=DIR scripts/cold-build.sh             also keeps cargo's --timings pages in DIR
#   ALONE=0 scripts/cold-build.sh                 skips the test command alone (when the first command
#                                                 shares no build with it, "after" is "alone")
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-1}
REVS=${REVS:-HEAD}
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR RUSTC_WRAPPER
export CARGO_TERM_COLOR=never

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# The README's command that starts with $1, without its comment.
readme_command() { grep -m1 "^$1" README.md | sed 's/ *#.*//'; }

# Download every crate once, outside the timings.
cargo fetch --quiet

results=$(mktemp)
timing_flag=()
if [ -n "${TIMINGS:-}" ]; then mkdir -p "$TIMINGS"; timing_flag=(--timings); fi
for i in $(seq "$RUNS"); do
  for rev in $REVS; do
    commit=$(git rev-parse --short "$rev")
    clone=$(mktemp -d)
    git clone --quiet --no-hardlinks . "$clone/presence-conformance"
    git -C "$clone/presence-conformance" checkout --quiet "$commit"
    cd "$clone/presence-conformance"
    run_command=$(readme_command "cargo run")
    test_command=$(readme_command "cargo test")
    echo "round $i of $RUNS, $commit in $clone"
    echo "load: $(uptime)"

    # `cargo run` writes "Running `target/.../presence-conformance ...`" to stderr the moment the
    # build is done. The flags go before `--`, the suite's own after it.
    read -r -a run_words <<< "$run_command"
    cargo_part=() binary_part=() seen=""
    for w in "${run_words[@]}"; do
      if [ -z "$seen" ] && [ "$w" = "--" ]; then seen=1; elif [ -z "$seen" ]; then cargo_part+=("$w"); else binary_part+=("$w"); fi
    done
    start=$(now)
    first=""
    while IFS= read -r line; do
      if [ -z "$first" ] && [[ "$line" == *"Running \`"* ]]; then first=$(since "$start"); fi
    done < <("${cargo_part[@]}" "${timing_flag[@]}" -- "${binary_part[@]}" --quiet 2>&1 >/dev/null)
    run_total=$(since "$start")
    [ -n "${TIMINGS:-}" ] && cp target/cargo-timings/cargo-timing.html "$TIMINGS/$commit-run-$i.html"
    echo "$run_command: first case after ${first:-?} s"
    echo "$run_command: total $run_total s"

    start=$(now)
    read -r -a test_words <<< "$test_command"
    if ! "${test_words[@]}" "${timing_flag[@]}" --quiet > "$clone/test.log" 2>&1; then
      # A test that failed (a flake of that commit) stopped cargo test before the rest: the
      # round's time is not the command's, so it is shown and left out of the medians.
      log=$(mktemp --suffix=.log)
      cp "$clone/test.log" "$log"
      echo "$test_command failed after $(since "$start") s, see $log; this round is not counted"
      cd - > /dev/null
      rm -rf "$clone"
      continue
    fi
    test_total=$(since "$start")
    [ -n "${TIMINGS:-}" ] && cp target/cargo-timings/cargo-timing.html "$TIMINGS/$commit-test-$i.html"
    echo "$test_command: total $test_total s"
    echo "both in a row: $(awk -v a="$run_total" -v b="$test_total" 'BEGIN { printf "%.1f", a + b }') s"

    alone_total=$test_total
    if [ "${ALONE:-1}" = 1 ]; then
      rm -rf target
      start=$(now)
      if ! "${test_words[@]}" --quiet > "$clone/test.log" 2>&1; then
        log=$(mktemp --suffix=.log)
        cp "$clone/test.log" "$log"
        echo "$test_command alone failed, see $log; its time is not counted"
        alone_total="-"
      else
        alone_total=$(since "$start")
      fi
      [ "$alone_total" != "-" ] && echo "$test_command alone, from an empty target/: total $alone_total s"
    fi
    echo "load: $(uptime)"
    echo "$commit $first $run_total $test_total $alone_total" >> "$results"
    cd - > /dev/null
    rm -rf "$clone"
  done
done

if [ "$RUNS" -gt 1 ]; then
  for rev in $REVS; do
    commit=$(git rev-parse --short "$rev")
    field() { awk -v c="$commit" -v f="$1" '$1 == c && $f != "-" { print $f }' "$results"; }
    echo "$commit, medians of the $(field 1 | wc -l) rounds counted:"
    echo "  run: first case after $(field 2 | median) s"
    echo "  test: total $(field 4 | median) s"
    echo "  both in a row: $(awk -v c="$commit" '$1 == c { print $3 + $4 }' "$results" | median) s"
    echo "  test alone: total $(field 5 | median) s"
  done
fi
rm -f "$results"
