"""Command line: python -m core.cluster status|stop   (the trainings' local Ray of a runs folder)"""

import sys

from core.cli.cluster import main

if __name__ == "__main__":
    sys.exit(main())
