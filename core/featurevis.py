"""Command line: python -m core.featurevis CHECKPOINT (--layer NAME | --class NAME) [--json] [--data-dir D]."""

import sys

from core.cli.featurevis import main

if __name__ == "__main__":
    sys.exit(main())
