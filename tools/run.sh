#!/usr/bin/env bash
# Builds the release bundle and runs it with the local OpenID provider. Ctrl-C stops both.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash tools/setup.sh
trunk build --release

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

node provider/server.mjs & pids+=($!)
node tools/serve.mjs dist 8080 & pids+=($!)
sleep 1
cat <<MSG

  The app:      http://localhost:8080
  The provider: http://127.0.0.1:9000
  Sign in as    alice / wonderland   (or bob / builder)

  Ctrl-C stops both.
MSG
wait
