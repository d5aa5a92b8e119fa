"""Command line: python -m core.teach CHECKPOINT --class NAME IMAGE [IMAGE ...] [--out NEW.safetensors] [--json]."""

import sys

from core.cli.teach import main

if __name__ == "__main__":
    sys.exit(main())
