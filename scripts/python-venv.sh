#!/usr/bin/env bash
# The notebook's Python environment: .venv with the pinned requirements.txt (DuckDB, pandas,
# Matplotlib, Seaborn, PyYAML, JupyterLab, nbclient, nbconvert, ipykernel). Used by `make notebook`,
# `make analysis` and the tests (scripts/test-prereqs.d/). Idempotent and quick: skipped when
# .venv was built from the same requirements.txt (its SHA-256 is kept in .venv/.requirements.sha256).
# PYTHON picks the interpreter (default python3; 3.11 or newer, as pandas 3 and DuckDB 2 need).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV=.venv
STAMP="$VENV/.requirements.sha256"
want="$(sha256sum requirements.txt | cut -d' ' -f1)"
# Matplotlib builds its font cache (in the user's cache, not the venv) on first import and says so
# on stderr: do it here, not inside the first notebook run (the tests fail on a cell's stderr).
warm_up() { MPLBACKEND=Agg "$VENV/bin/python" -c 'import matplotlib.pyplot' >/dev/null 2>&1; }
if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
  warm_up
  echo "python venv: up to date ($VENV, $("$VENV/bin/python" --version))"
  exit 0
fi
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  bash scripts/apt-install.sh python3 python3-venv
fi
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "error: $PYTHON is $("$PYTHON" --version 2>&1); the notebook needs Python 3.11 or newer (set PYTHON=python3.11)" >&2
  exit 1
fi
# Debian splits venv and ensurepip out of python3.
"$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || bash scripts/apt-install.sh python3-venv
if [ ! -x "$VENV/bin/python" ]; then
  echo "python venv: creating $VENV with $("$PYTHON" --version)"
  "$PYTHON" -m venv "$VENV"
fi
echo "python venv: installing requirements.txt"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
warm_up
echo "$want" > "$STAMP"
echo "python venv: ready ($VENV)"
