#!/usr/bin/env bash
# Install shopwindow into ./.venv and run the demo platform (SQLite under ./var).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e . 
exec .venv/bin/shopwindow demo "$@"
