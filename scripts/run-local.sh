#!/usr/bin/env bash
# Installs and builds sgw, starts sgwd on the embedded local object store (state in ./.state), activates the
# gateway and shows it. Safe to run again: a running daemon is reused and activation is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
export SGW_STATE_DIR="$PWD/.state" SGW_SOCKET="$PWD/.state/sgw.sock"

npm ci --no-audit --no-fund
npm run build
if ! node bin/sgw.js gateway info --json >/dev/null 2>&1; then
  node bin/sgwd.js
fi
node bin/sgw.js activate --json >/dev/null
node bin/sgw.js gateway info
echo
echo "sgwd runs in the background (log: .state/sgwd.log). Try:"
echo "  SGW_SOCKET=$SGW_SOCKET node bin/sgw.js --help"
echo "Stop it with: kill \$(cat .state/sgwd.pid)"
