#!/usr/bin/env bash
# Install and start Fashion-MNIST Studio on http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh app
exec "${PYTHON:-python3}" -m streamlit run dashboard/Home.py "$@"
