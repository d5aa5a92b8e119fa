#!/usr/bin/env bash
# Install (the first time, or after requirements.txt changed) and start Fashion-MNIST Studio on
# http://localhost:8501, from the environment scripts/python_env.sh picks (.venv/ by default).
# Arguments go on to Streamlit: bash scripts/app.sh --server.port 8600
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh app
. scripts/python_env.sh
exec "$STUDIO_PYTHON" -m streamlit run dashboard/Home.py "$@"
