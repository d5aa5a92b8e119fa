"""Command line: python -m core.labels [--k 5] [--recipe NAME] --csv suspects.csv; --duplicates --csv pairs.csv"""

import sys

from core.cli.labels import main

if __name__ == "__main__":
    sys.exit(main())
