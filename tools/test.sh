#!/usr/bin/env bash
# Installs whatever is missing, then runs every test:
#   1. native unit tests of the protocol core and the session core (cargo test), and the
#      demo API's and the CSP hook's own tests (node --test)
#   2. browser-layer tests in headless Chrome (wasm-bindgen-test)
#   3. end-to-end tests: real headless Chromium (WebDriver) against the release build,
#      the two local OpenID providers (oidc-provider; django-oauth-toolkit) and the demo API
# It starts the provider, the demo API, a server for the release build and chromedriver itself, and
# stops them on the way out, whether the tests pass, fail or are interrupted.
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$(dirname "$0")/services.sh"
cd "$ROOT"

APP_PORT=8080
# The same build again, configured for the fault provider that the tests start on 9100.
FAULT_APP_PORT=8081
# And once more for the fault provider under an issuer with a path and a trailing slash.
FAULT_PATH_APP_PORT=8083
FAULT_PROVIDER_PORT=9100
PROVIDER_PORT=9000
API_PORT=9200
# The same build a third time, configured for the second provider (django-oauth-toolkit on
# 8000), with a demo API of its own that checks that provider's tokens.
DJANGO_APP_PORT=8082
DJANGO_PROVIDER_PORT=8000
DJANGO_API_PORT=9201
WEBDRIVER_PORT=9515
SCRATCH="$ROOT/.e2e"

bash tools/setup.sh --test

say "Native tests (protocol core)"
cargo test --quiet

say "Node tests (the demo API's rules and CORS, the CSP hook)"
node --test api/server.test.mjs tools/csp.test.mjs tools/serve.test.mjs

say "Browser tests (wasm-bindgen-test in headless Chrome)"
cargo test --target wasm32-unknown-unknown -p leptos-oidc-auth --features test-hooks --test browser

say "Release build"
trunk build --release

require_free_ports $APP_PORT $FAULT_APP_PORT $FAULT_PATH_APP_PORT $PROVIDER_PORT $FAULT_PROVIDER_PORT $API_PORT $WEBDRIVER_PORT \
  $DJANGO_APP_PORT $DJANGO_PROVIDER_PORT $DJANGO_API_PORT

rm -rf "$SCRATCH"
mkdir -p "$SCRATCH"
cleanup() {
  local status=$?
  stop_services
  # Browsers that chromedriver started, should any outlive it: they all use profiles here.
  pkill -f -- "--user-data-dir=$SCRATCH/" 2>/dev/null || true
  if [ "$status" -ne 0 ]; then
    for log in "$SCRATCH"/*.log; do
      [ -f "$log" ] && { echo "--- last lines of $log"; tail -n 20 "$log"; }
    done
    echo "Failure screenshots, if any: $SCRATCH/failure-*.png"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Access tokens live 10 s here, and the app renews a token that short half-way through
# its life: 5 s after sign-in the end-to-end tests see refresh-token rotation for real.
# Its tokens are DPoP-bound, and it and the demo API both ask for DPoP nonces (RFC 9449 §8, §9).
start_service "$SCRATCH/provider.log" env PROVIDER_ACCESS_TOKEN_TTL=10 PROVIDER_TEST_HOOKS=1 node provider/server.mjs
start_service "$SCRATCH/api.log" env API_PORT=$API_PORT API_TEST_HOOKS=1 API_DPOP_NONCE=1 node api/server.mjs
start_service "$SCRATCH/app.log" node tools/serve.mjs dist "$APP_PORT"
start_service "$SCRATCH/fault-app.log" env APP_CONFIG=tests/e2e/fault-config.json node tools/serve.mjs dist "$FAULT_APP_PORT"
start_service "$SCRATCH/fault-path-app.log" env APP_CONFIG=tests/e2e/fault-path-config.json node tools/serve.mjs dist "$FAULT_PATH_APP_PORT"
start_service "$SCRATCH/chromedriver.log" chromedriver --port="$WEBDRIVER_PORT"
# Its database is made anew at each start (a few seconds).
start_service "$SCRATCH/django-provider.log" env DJANGO_PROVIDER_PORT=$DJANGO_PROVIDER_PORT \
  DJANGO_PROVIDER_ACCESS_TOKEN_TTL=10 DJANGO_PROVIDER_DATA="$SCRATCH/django-provider" \
  APP_ORIGINS="http://localhost:$DJANGO_APP_PORT" provider-django/.venv/bin/python provider-django/serve.py
start_service "$SCRATCH/django-api.log" env API_PORT=$DJANGO_API_PORT PROVIDER_ISSUER="http://127.0.0.1:$DJANGO_PROVIDER_PORT/o" \
  APP_ORIGINS="http://localhost:$DJANGO_APP_PORT" node api/server.mjs
start_service "$SCRATCH/django-app.log" env APP_CONFIG=tests/e2e/django-config.json node tools/serve.mjs dist "$DJANGO_APP_PORT"
wait_for_ports $APP_PORT $FAULT_APP_PORT $FAULT_PATH_APP_PORT $PROVIDER_PORT $API_PORT $WEBDRIVER_PORT $DJANGO_APP_PORT $DJANGO_API_PORT
WAIT_SECONDS=30 wait_for_ports $DJANGO_PROVIDER_PORT

say "End-to-end tests (headless Chromium, release build, both local providers)"
APP_URL="http://localhost:$APP_PORT" \
DJANGO_APP_URL="http://localhost:$DJANGO_APP_PORT" \
DJANGO_PROVIDER_URL="http://127.0.0.1:$DJANGO_PROVIDER_PORT/o" \
FAULT_APP_URL="http://localhost:$FAULT_APP_PORT" \
FAULT_PATH_APP_URL="http://localhost:$FAULT_PATH_APP_PORT" \
PROVIDER_URL="http://127.0.0.1:$PROVIDER_PORT" \
API_URL="http://127.0.0.1:$API_PORT" \
WEBDRIVER_URL="http://127.0.0.1:$WEBDRIVER_PORT" \
E2E_DIR="$SCRATCH" \
  cargo test --quiet -p e2e

say "All tests passed"
