#!/usr/bin/env bash
# The benchmark (make bench): builds the release bundle, the React + oidc-client-ts baseline
# and a Leptos reference without auth; serves them with the local provider in benchmark mode
# (automatic login and consent); and measures them side by side in headless Chromium.
# BENCH_RUNS sets the runs per app (default 21). Results: table on stdout, JSON in
# target/bench/results.json.
set -euo pipefail
source "$(dirname "$0")/../tools/env.sh"
cd "$ROOT"
RUNS="${BENCH_RUNS:-21}"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

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

for port in 8080 8081 9000; do
  if port_open "$port"; then echo "error: port $port is in use; stop what runs there and try again." >&2; exit 1; fi
done

pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p target/bench
PROVIDER_AUTO_LOGIN=alice BASELINE_ORIGINS=http://localhost:8081 \
  setsid node provider/server.mjs >target/bench/provider.log 2>&1 & pids+=($!)
setsid node tools/serve.mjs dist 8080 >target/bench/app.log 2>&1 & pids+=($!)
setsid node tools/serve.mjs bench/react-baseline/dist 8081 >target/bench/baseline.log 2>&1 & pids+=($!)
for port in 8080 8081 9000; do
  for _ in $(seq 100); do port_open "$port" && break; sleep 0.1; done
done

say "Measuring ($RUNS runs each)"
node bench/bench.mjs "$RUNS" target/bench/results.json \
  "leptos=http://localhost:8080=dist" \
  "react=http://localhost:8081=bench/react-baseline/dist" \
  "reference=-=bench/leptos-reference/dist"
