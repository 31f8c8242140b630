#!/usr/bin/env bash
# chromium: the headless browser the web-page tests drive with playwright-core (test/integration/ui/).
set -euo pipefail
command -v chromium >/dev/null 2>&1 || bash scripts/apt-install.sh chromium
chromium --version 2>/dev/null | sed -n 1p
