#!/usr/bin/env bash
# Installs what the tests need beyond npm packages (kcat, chromium, the notebook's venv, …):
# runs every scripts/test-prereqs.d/*.sh in name order. Each step is idempotent and quick when
# its tool is already there. Called by `make test`, so a fresh machine needs nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
for step in scripts/test-prereqs.d/*.sh; do
  [ -e "$step" ] || continue
  echo "== test prerequisites: $(basename "$step" .sh)"
  bash "$step"
done
