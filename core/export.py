"""Command line: python -m core.export CHECKPOINT --format onnx|torchscript --out FILE."""

import sys

from core.cli.export import main

if __name__ == "__main__":
    sys.exit(main())
