#!/usr/bin/env bash
# Install everything the tests need, check the code with ruff (lint, then formatting), then run the whole
# suite (unit, page and browser tests), from the environment scripts/python_env.sh picks (.venv/ by default).
# pytest runs on a worker per core, at most 4 (pytest-xdist; each test file whole on one worker, the longest
# first, see tests/conftest.py): the browser tests mostly wait on pages, and another file's tests use the CPU
# meanwhile. Arguments go on to pytest (`-n 0`: one process); the exit status is ruff's when it finds a problem,
# else pytest's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh test
. scripts/python_env.sh
"$STUDIO_PYTHON" -m ruff check .
"$STUDIO_PYTHON" -m ruff format --check .
exec "$STUDIO_PYTHON" -m pytest -n auto --maxprocesses 4 --dist loadfile --no-loadscope-reorder "$@"
