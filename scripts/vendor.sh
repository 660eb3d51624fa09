#!/usr/bin/env bash
# Install the pinned npm packages (package-lock.json), copy their built files into web/static/vendor (git-ignored)
# and bundle the process designer (assets/designer.js: bpmn-js Modeler + properties panel + our SpiffWorkflow
# groups) with esbuild into web/static/vendor/designer.min.js.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
V=web/static/vendor
rm -rf "$V"
mkdir -p "$V/bpmn-js" "$V/dmn-js" "$V/properties-panel" "$V/htmx" "$V/chartjs"
cp node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js node_modules/bpmn-js/dist/bpmn-viewer.production.min.js "$V/bpmn-js/"
cp -r node_modules/bpmn-js/dist/assets "$V/bpmn-js/assets"
cp node_modules/dmn-js/dist/dmn-modeler.production.min.js "$V/dmn-js/"
cp -r node_modules/dmn-js/dist/assets "$V/dmn-js/assets"
cp node_modules/@bpmn-io/properties-panel/dist/assets/properties-panel.css "$V/properties-panel/"
cp node_modules/htmx.org/dist/htmx.min.js "$V/htmx/"
cp node_modules/chart.js/dist/chart.umd.min.js "$V/chartjs/"
node assets/build.mjs "$V/designer.min.js"
echo "vendor files in $V"
