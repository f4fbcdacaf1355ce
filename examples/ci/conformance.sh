#!/bin/sh
# The Microsoft Graph presence conformance suite against your implementation, for any CI.
# The same steps as examples/ci/github-actions.yml, in POSIX sh. Configure it through the
# environment:
#
#   PRESENCE_CONFORMANCE      the binary (default: presence-conformance on the PATH); install a
#                             pinned version with
#                             cargo install --locked presence-conformance --version <version>
#   CONFORMANCE_TARGET        your target profile (default: conformance/target.toml); its
#                             `snapshots = "DIR"` is your committed baseline, relative to it
#   CONFORMANCE_REPORTS       where junit.xml and report.html go (default: conformance-reports)
#   CONFORMANCE_SNAPSHOTS     require (default: a missing or changed snapshot fails), compare,
#                             update (record the baseline, then commit it) or off
#   CONFORMANCE_FILTER        only the cases whose name contains this (default: every case)
#   IMPLEMENTATION_START      a command that starts the implementation under test; it runs in
#                             the background and is stopped at the end, with every process it
#                             started (default: none, it is already running)
#   IMPLEMENTATION_READY_URL  a URL polled (curl) until it answers, for up to 60 s (default: none)
#
# Exit status: the suite's (0: no failure and no regression; 1: a failure or a regression;
# 2: the suite could not run, e.g. the target is not reachable).
set -eu

bin=${PRESENCE_CONFORMANCE:-presence-conformance}
profile=${CONFORMANCE_TARGET:-conformance/target.toml}
reports=${CONFORMANCE_REPORTS:-conformance-reports}
snapshots=${CONFORMANCE_SNAPSHOTS:-require}
filter=${CONFORMANCE_FILTER:-}

# 1. The binary, and the suite it carries.
"$bin" --version

# 2. The implementation under test. `sh -c` stays the parent of what it starts (dash does not
# exec its last command), so stopping it means stopping its whole tree: each process's children
# first (POSIX `ps -A -o pid= -o ppid=`), then the process.
stop_tree() {
  for child in $(ps -A -o pid= -o ppid= | awk -v parent="$1" '$2 == parent { print $1 }'); do
    stop_tree "$child"
  done
  kill "$1" 2>/dev/null || true
}
if [ -n "${IMPLEMENTATION_START:-}" ]; then
  sh -c "$IMPLEMENTATION_START" &
  implementation=$!
  trap 'stop_tree "$implementation"' EXIT
  trap 'exit 130' INT TERM
fi
if [ -n "${IMPLEMENTATION_READY_URL:-}" ]; then
  tries=0
  until curl --silent --output /dev/null "$IMPLEMENTATION_READY_URL"; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
      echo "error: $IMPLEMENTATION_READY_URL did not answer within 60 s" >&2
      exit 2
    fi
    sleep 1
  done
fi

# 3-5. The suite on the target profile, JUnit and HTML reports, and the snapshot baseline.
mkdir -p "$reports"
set -- run --quiet --target "$profile" --snapshots "$snapshots" \
  --junit "$reports/junit.xml" --html "$reports/report.html"
if [ -n "$filter" ]; then
  set -- "$@" "$filter"
fi
status=0
"$bin" "$@" || status=$?
echo "reports: $reports/junit.xml, $reports/report.html"
exit "$status"
