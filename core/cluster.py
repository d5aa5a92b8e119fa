"""Command line: python -m core.cluster status|stop [--out RUNS]: the trainings' local Ray."""

import sys

from core.cli.cluster import main

if __name__ == "__main__":
    sys.exit(main())
