#!/usr/bin/env bash
# Installs whatever is missing to build and run the app (and, with --test, to test it).
# Idempotent: a second run only checks. Needs: Rust through rustup, Node >= 20.18, apt.
# Everything comes from the package registries (crates.io, npm, Debian); nothing else is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
# Must equal the wasm-bindgen crate version pinned in Cargo.toml.
WASM_BINDGEN_VERSION=0.2.130
want_test=false
[ "${1:-}" = "--test" ] && want_test=true

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "error: $1 is required ($2)" >&2; exit 1; }; }

need cargo "install Rust with rustup: https://rustup.rs"
need rustup "install Rust with rustup: https://rustup.rs"
need node "install Node.js 20.18 or later"
need npm "install Node.js 20.18 or later"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "Adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  say "Installing trunk $TRUNK_VERSION (a few minutes, once)"
  cargo install --locked trunk --version "$TRUNK_VERSION"
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "Installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (two minutes, once)"
  # Not --locked: the CLI's lockfile pins a crate version the registry no longer has.
  cargo install --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

for dir in provider tools; do
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "Installing npm packages in $dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

if $want_test && { [ ! -d tests/e2e/node_modules ] || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; }; then
  say "Installing npm packages in tests/e2e/ (axe-core)"
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi

# The second local provider (django-oauth-toolkit), for the tests: pinned packages from PyPI
# in a virtualenv of its own.
DJANGO_VENV=provider-django/.venv
if $want_test && { [ ! -x "$DJANGO_VENV/bin/python" ] || [ provider-django/requirements.txt -nt "$DJANGO_VENV/.installed" ]; }; then
  need python3 "install Python 3.10 or later"
  say "Installing django-oauth-toolkit in $DJANGO_VENV (PyPI)"
  python3 -m venv "$DJANGO_VENV"
  "$DJANGO_VENV/bin/pip" install --quiet --disable-pip-version-check -r provider-django/requirements.txt
  touch "$DJANGO_VENV/.installed"
fi

if $want_test && ! { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }; then
  say "Installing Chromium and ChromeDriver (Debian packages)"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# Trunk builds offline (Trunk.toml), so the crates must be here first.
cargo fetch --quiet
