"""Command line: python -m core.predict CHECKPOINT IMAGE... | --test-set [--csv FILE] [--data-dir D]."""

import sys

from core.cli.predict import main

if __name__ == "__main__":
    sys.exit(main())
