#!/usr/bin/env bash
# The benchmark (make bench): builds the release bundle, the React + oidc-client-ts baseline
# and a Leptos reference without auth; serves them with the local provider in benchmark mode
# (automatic login and consent); and measures them side by side in headless Chromium.
# BENCH_RUNS sets the runs per app (default 21). Then one waterfall per app and flow on the
# mobile profile (bench/waterfall.mjs). Results: tables on stdout, JSON in
# target/bench/results.json and target/bench/waterfall.json.
set -euo pipefail
source "$(dirname "$0")/../tools/env.sh"
source "$(dirname "$0")/../tools/services.sh"
cd "$ROOT"
RUNS="${BENCH_RUNS:-21}"

bash tools/setup.sh --test
for dir in bench bench/react-baseline; do
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

say "Building: the app (release), the Leptos reference without auth, the React baseline"
trunk build --release
(cd bench/leptos-reference && trunk build --release)
(cd bench/react-baseline && npx vite build --logLevel warn)

require_free_ports 8080 8081 9000
trap stop_services EXIT
trap 'exit 130' INT TERM
mkdir -p target/bench
start_service target/bench/provider.log \
  env PROVIDER_AUTO_LOGIN=alice BASELINE_ORIGINS=http://localhost:8081 node provider/server.mjs
start_service target/bench/app.log node tools/serve.mjs dist 8080
start_service target/bench/baseline.log node tools/serve.mjs bench/react-baseline/dist 8081
wait_for_ports 8080 8081 9000

say "Measuring ($RUNS runs each)"
node bench/bench.mjs "$RUNS" target/bench/results.json \
  "leptos=http://localhost:8080=dist" \
  "react=http://localhost:8081=bench/react-baseline/dist" \
  "reference=-=bench/leptos-reference/dist"

say "Waterfalls (mobile profile, one cold run each)"
node bench/waterfall.mjs target/bench/waterfall.json \
  "leptos=http://localhost:8080" "react=http://localhost:8081"
