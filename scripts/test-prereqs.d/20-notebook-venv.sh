#!/usr/bin/env bash
# The notebook test executes datalake_analysis.ipynb with .venv's Python (nbclient).
set -euo pipefail
bash scripts/python-venv.sh
