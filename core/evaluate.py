"""Command line: python -m core.evaluate CHECKPOINT [--data-dir D] [--json]."""

import sys

from core.cli.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
