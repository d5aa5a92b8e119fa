"""Command line: python -m core.embed CHECKPOINT [--method pca|tsne|umap] [--space features|pixels] [--limit N]
[--seed S] --csv FILE."""

import argparse
import csv
import sys

from core.analysis import embeddings
from core.base.errors import StudioError
from core.cli.common import add_data_flags, friendly_errors
from core.data import dataset


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m core.embed",
        description="Project the test images to 2-D: the model's penultimate-layer features, or the raw pixels.",
    )
    p.add_argument("checkpoint", help="a .safetensors checkpoint")
    p.add_argument("--method", default="pca", choices=embeddings.METHODS, help="default: pca")
    p.add_argument("--space", default="features", choices=embeddings.SPACES, help="default: features")
    p.add_argument(
        "--limit", type=int, help=f"a random sample of this many test images (default: all {embeddings.TEST_SIZE:,})"
    )
    p.add_argument("--seed", type=int, default=0, help="the sample and the layout's seed (default: 0)")
    p.add_argument("--csv", required=True, help="write index,label,prediction,x,y here ('-' for standard output)")
    add_data_flags(p)
    return p


def write_csv(found: embeddings.Embedding, out) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["index", "label", "prediction", "x", "y"])
    for i, t, p, (x, y) in zip(
        found.indices.tolist(), found.labels.tolist(), found.predictions.tolist(), found.xy.tolist()
    ):
        writer.writerow([i, t, p, f"{x:.5f}", f"{y:.5f}"])


@friendly_errors
def main(argv=None) -> int:
    args = parser().parse_args(argv)
    embeddings.check(args.method, args.space, args.limit)
    data = dataset.load(args.data_dir)

    def progress(fraction, what):
        print(f"\r{what}: {fraction:.0%}   ", end="", file=sys.stderr, flush=True)

    found = embeddings.embed(
        args.checkpoint, args.method, args.space, args.limit, args.seed, data, progress if sys.stderr.isatty() else None
    )
    if args.csv == "-":
        write_csv(found, sys.stdout)
        return 0
    try:
        with open(args.csv, "w", newline="") as f:
            write_csv(found, f)
    except OSError as e:
        raise StudioError(f"cannot write {args.csv}: {e.strerror or e}.") from None
    print(
        f"wrote {len(found.indices):,} points ({embeddings.TITLES[args.method]} of the {args.space}) to {args.csv}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
