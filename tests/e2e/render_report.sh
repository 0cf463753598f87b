#!/usr/bin/env bash
# Renders an evidence bundle's report.html with headless Chromium: OUTDIR/report.png (screenshot, 1200x1600) and
# OUTDIR/report.pdf (print to PDF, the page's own @page rules). The page is opened from a local file with
# networking disabled, as a reader would open it; it must need nothing else.
#
# Usage: tests/e2e/render_report.sh BUNDLE.zip OUTDIR
# Needs: chromium (Debian package `chromium`), unzip. Optional: pdftoppm (poppler-utils) for OUTDIR/report-N.png.
set -euo pipefail

if [ "$#" -ne 2 ]; then
    echo "usage: $0 BUNDLE.zip OUTDIR" >&2
    exit 2
fi
bundle=$1
outdir=$2
browser=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [ -z "$browser" ]; then
    echo "$0: chromium not found (apt-get install -y chromium)" >&2
    exit 2
fi
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

unzip -q -o "$bundle" report.html -d "$work"
page="file://$work/report.html"

run_chromium() {
    # A fresh profile each time; no GPU, no network, no background services. Chromium's own log goes to
    # $work/chromium.log and is shown only when it fails.
    "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --no-default-browser-check \
        --user-data-dir="$(mktemp -d -p "$work")" "$@" >>"$work/chromium.log" 2>&1 || {
        cat "$work/chromium.log" >&2
        return 1
    }
}

run_chromium --hide-scrollbars --window-size=1200,1600 --screenshot="$outdir/report.png" "$page"
run_chromium --no-pdf-header-footer --print-to-pdf="$outdir/report.pdf" "$page"

for f in report.png report.pdf; do
    if [ ! -s "$outdir/$f" ]; then
        echo "$0: chromium did not write $outdir/$f" >&2
        exit 1
    fi
done
if command -v pdftoppm >/dev/null 2>&1; then
    pdftoppm -png -r 60 "$outdir/report.pdf" "$outdir/report-page"
fi
echo "$outdir/report.png"
echo "$outdir/report.pdf"
