"""Command line: python -m core.conv CHECKPOINT IMAGE --layer NAME --channel C --at ROW,COL [--json]."""

import sys

from core.cli.conv import main

if __name__ == "__main__":
    sys.exit(main())
