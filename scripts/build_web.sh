#!/usr/bin/env bash
# Install the web UI's npm packages (when package-lock.json changed) and build it into serving/web/dist
# (when a source is newer than the last build). Called by scripts/setup.sh; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/../serving/web"
# swagger-ui-dist depends on @scarf/scarf, an install-time usage counter: never report anything
export SCARF_ANALYTICS=false
if ! command -v npm >/dev/null 2>&1; then
  echo "npm not found: the web UI is not built (the API still works). Install Node.js 20.19+ and npm," \
    "then run scripts/setup.sh again." >&2
  exit 0
fi
# Vite 8 needs Node.js 20.19 or newer; say so plainly instead of failing deep inside the build
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || { echo "Node.js $(node --version) is too old for the web UI: 20.19 or newer is needed." >&2; exit 1; }
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ ! -f dist/index.html ] \
  || [ -n "$(find src index.html package-lock.json vite.config.ts tsconfig.json -newer dist/index.html -print -quit)" ]; then
  npm run --silent build
fi
