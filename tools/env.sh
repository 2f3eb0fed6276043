# Sourced by the scripts: puts the project's own tools first on PATH.
# wasm-opt must be binaryen 132 from tools/node_modules, never Debian's binaryen.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$ROOT/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export TRUNK_SKIP_VERSION_CHECK=true
