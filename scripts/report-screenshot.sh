#!/usr/bin/env bash
# Renders an HTML report (`presence-conformance run --html REPORT.html`) with headless Chromium
# to PNGs, to look at it as a reader would:
#   OUTDIR/index.png         the top of the page: counts and the matrix
#   OUTDIR/fade-case.png     timeout::available_fades_to_away, a passing fade case
#   OUTDIR/failing-case.png  the first failed result in the matrix, if any
#   OUTDIR/<n>-extra.png     one per extra ANCHOR given (`case.timeout.available_fades_to_away`)
#
# Usage: scripts/report-screenshot.sh REPORT.html OUTDIR [ANCHOR...]
# Installs Debian's `chromium` package if it is missing (needs root and a package mirror).
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 REPORT.html OUTDIR [ANCHOR...]" >&2
  exit 2
fi
report=$(realpath "$1")
outdir=$2
shift 2
[ -f "$report" ] || { echo "error: no report at $report" >&2; exit 2; }
mkdir -p "$outdir"
outdir=$(realpath "$outdir")

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "chromium is missing: installing Debian's package" >&2
  apt-get update >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null
  browser=$(command -v chromium)
fi

# shot FILE FRAGMENT [HEIGHT]: one PNG of the page scrolled to #FRAGMENT (empty: the top).
shot() {
  local file=$1 fragment=$2 height=${3:-2000} profile url
  profile=$(mktemp -d)
  url="file://$report"
  [ -n "$fragment" ] && url="$url#$fragment"
  "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$profile" --screenshot="$file" \
    --window-size=1400,"$height" "$url" >/dev/null 2>&1 || true
  rm -rf "$profile"
  if [ -s "$file" ]; then
    echo "$file"
  else
    echo "error: chromium wrote no $file" >&2
    return 1
  fi
}

shot "$outdir/index.png" "" 2000
fade="case.timeout.available_fades_to_away"
if grep -q "id=\"$fade\"" "$report"; then
  shot "$outdir/fade-case.png" "$fade" 1400
fi
# The first failed cell of the matrix links to its result.
failing=$(grep -o 'class="cell failed"><a href="#[^"]*"' "$report" | head -1 | sed 's/.*href="#//; s/"$//' || true)
if [ -n "$failing" ]; then
  # The result's case section holds every target's picture: start at the section.
  shot "$outdir/failing-case.png" "${failing%@*}" 1400
fi
n=0
for anchor in "$@"; do
  n=$((n + 1))
  shot "$outdir/$n-extra.png" "$anchor" 1400
done
