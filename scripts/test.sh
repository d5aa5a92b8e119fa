#!/usr/bin/env bash
# Install everything the tests need, then run the whole suite (unit, page and browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh test
exec "${PYTHON:-python3}" -m pytest "$@"
