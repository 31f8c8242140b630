#!/usr/bin/env bash
# kcat: the second, independent Kafka client the integration tests check against.
set -euo pipefail
command -v kcat >/dev/null 2>&1 || bash scripts/apt-install.sh kcat
kcat -V | sed -n 1p
