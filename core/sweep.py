"""Command line: python -m core.sweep --arch mlp --batch-size 64,256,512 --epochs 5 [--json]"""

import sys

from core.cli.sweep import main

if __name__ == "__main__":
    sys.exit(main())
