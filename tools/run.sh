#!/usr/bin/env bash
# Builds the release bundle and runs it with the local OpenID provider and the demo API.
# Ctrl-C stops them all.
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$(dirname "$0")/services.sh"
cd "$ROOT"
bash tools/setup.sh
trunk build --release

require_free_ports 8080 9000 9200
trap stop_services EXIT
trap 'exit 130' INT TERM
start_service - node provider/server.mjs
start_service - node api/server.mjs
start_service - node tools/serve.mjs dist 8080
wait_for_ports 8080 9000 9200
cat <<MSG

  The app:      http://localhost:8080
  The provider: http://127.0.0.1:9000
  The demo API: http://127.0.0.1:9200/me  (called from the app's API page)
  Sign in as    alice / wonderland   (or bob / builder)

  Ctrl-C stops them all.
MSG
wait
