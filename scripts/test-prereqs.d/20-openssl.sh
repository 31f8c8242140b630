#!/usr/bin/env bash
# openssl: `kafka up --secure` makes the secured test cluster's CA and broker certificate with it.
set -euo pipefail
command -v openssl >/dev/null 2>&1 || bash scripts/apt-install.sh openssl
openssl version
