"""Command line: python -m core.explain CHECKPOINT IMAGE... [--method M] [--target CLASS] [--layer NAME] [--json]."""

import sys

from core.cli.explain import main

if __name__ == "__main__":
    sys.exit(main())
