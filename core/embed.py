"""Command line: python -m core.embed CHECKPOINT [--method pca|tsne|umap] [--space features|pixels] --csv FILE."""

import sys

from core.cli.embed import main

if __name__ == "__main__":
    sys.exit(main())
