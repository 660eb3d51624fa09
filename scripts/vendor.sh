#!/usr/bin/env bash
# Install the pinned npm packages (package-lock.json) and copy their built files into web/static/vendor (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
V=web/static/vendor
rm -rf "$V"
mkdir -p "$V/bpmn-js" "$V/htmx" "$V/chartjs"
cp node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js node_modules/bpmn-js/dist/bpmn-viewer.production.min.js "$V/bpmn-js/"
cp -r node_modules/bpmn-js/dist/assets "$V/bpmn-js/assets"
cp node_modules/htmx.org/dist/htmx.min.js "$V/htmx/"
cp node_modules/chart.js/dist/chart.umd.min.js "$V/chartjs/"
echo "vendor files in $V"
