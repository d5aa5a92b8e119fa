#!/usr/bin/env bash
# The CUDA path in one run (about 8 minutes on one GPU): the tests that can use the GPU, the quick demo and the
# ladder's rungs with their times, bf16 autocast and torchrun with NCCL; one markdown table at the end.
#
#   bash bench/gpu_check.sh                       # on a CUDA machine with PyTorch and the dataset
#   bash bench/gpu_check.sh --device cpu --dry-run   # the same script on a CPU, tiny limits
#   bash bench/gpu_check.sh --out gpu_check.md    # also write the table to a file
#
# The dataset: FMNIST_DATA_DIR, or one of the places core/data/dataset.py looks. The Python: PYTHON, else the
# project's .venv, else python3. The few wheels PyTorch does not bring (safetensors, ONNX, Captum, TensorBoard,
# pytest ...) are installed at their pinned versions when missing: from FMNIST_WHEELS (a folder of wheels, for
# a machine without network) or else from the package index.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

# module -> distribution, pinned in requirements*.txt
missing=$("$PYTHON" - <<'EOF'
import importlib.util, re
needed = {"safetensors": "safetensors", "numpy": "numpy", "PIL": "pillow", "onnx": "onnx",
          "onnxruntime": "onnxruntime", "onnxscript": "onnxscript", "captum": "captum",
          "tensorboard": "tensorboard", "pytest": "pytest"}
pins = {}
for name in ("requirements.txt", "requirements-dev.txt"):
    for line in open(name):
        m = re.match(r"^([A-Za-z0-9_.-]+)\s*([=<>!~].*)?$", line.strip())
        if m:
            pins[m.group(1).lower()] = line.strip()
print(" ".join(pins.get(dist, dist) for mod, dist in needed.items() if importlib.util.find_spec(mod) is None))
EOF
)
if ! "$PYTHON" -c "import torch" 2>/dev/null; then
  echo "error: $PYTHON has no PyTorch; install the CUDA build of torch first (requirements.txt pins the version)." >&2
  exit 2
fi
if [ -n "$missing" ]; then
  echo "installing the missing wheels: $missing" >&2
  if [ -n "${FMNIST_WHEELS:-}" ]; then
    # shellcheck disable=SC2086
    "$PYTHON" -m pip install --quiet --no-index --find-links "$FMNIST_WHEELS" $missing
  else
    # shellcheck disable=SC2086
    "$PYTHON" -m pip install --quiet $missing
  fi
fi

exec "$PYTHON" -m bench.gpu_check "$@"
