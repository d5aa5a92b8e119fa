"""Command line: python -m core.train --arch simple_cnn --epochs 10 --batch-size 128 --lr 1e-3 ..."""

import sys

from core.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
