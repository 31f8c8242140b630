#!/usr/bin/env bash
# make setup: Node and npm first (everything else runs on them), npm packages, the build, then
# `node dist/main.js services setup` checks Java, Maven, kcat, Python and Docker, fetches the Kafka
# jars and prints the exact command for whatever it cannot install without asking.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1; then
  echo "node: MISSING. Install Node.js 20.19+ (https://nodejs.org, or: nvm install 22), then run make setup again" >&2
  exit 1
fi
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  echo "node: $(node --version) is too old: Node.js 20.19+ is needed (nvm install 22)" >&2
  exit 1
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm: MISSING. It comes with Node.js: reinstall Node.js 20.19+ (https://nodejs.org)" >&2
  exit 1
fi
echo "node $(node --version), npm $(npm --version): ok"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm packages (npm ci; a minute or two, longer when better-sqlite3 builds from source) …"
  npm ci --no-audit --no-fund
else
  echo "npm packages: up to date"
fi
if [ ! -f dist/main.js ] || [ -n "$(find src tsconfig.json package.json -newer dist/main.js -print | head -n 1)" ]; then
  echo "building dist/ (tsc) …"
  npm run --silent build
fi
exec node dist/main.js services setup
