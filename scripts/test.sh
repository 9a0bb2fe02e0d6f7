#!/usr/bin/env bash
# Install everything the tests need (Python packages, Debian's chromium) and run the suite:
# ruff, mypy, import-linter, pytest (SQLite + PostgreSQL, browser tests) with coverage.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing Debian chromium (browser tests)…"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi

[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'

echo "== ruff";          .venv/bin/ruff check src tests benchmarks
echo "== mypy";          .venv/bin/mypy
echo "== import-linter"; .venv/bin/lint-imports
echo "== pytest"
mkdir -p test-artifacts
.venv/bin/python -m pytest --cov=shopwindow --cov-report=term:skip-covered \
  --cov-report=xml:test-artifacts/coverage.xml "$@"
