"""Command line: python -m core.predict CHECKPOINT IMAGE... | --test-set [--csv FILE] [--data-dir D]."""

import argparse
import sys
from pathlib import Path

from core.analysis import evaluation, inference
from core.base.errors import ImageError, StudioError
from core.cli.common import add_data_flags, friendly_errors, print_json
from core.io import checkpoint, preprocess


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m core.predict", description="Classify image files (top 3 classes each), or the whole test set."
    )
    p.add_argument("checkpoint", help="a .safetensors checkpoint")
    p.add_argument("images", nargs="*", help=f"image files: {preprocess.ACCEPTED} (up to 10 MB each)")
    p.add_argument("--test-set", action="store_true", help="predict all 10,000 test images")
    p.add_argument("--csv", help="with --test-set: write the predictions here (default: standard output)")
    add_data_flags(p)
    p.add_argument("--json", action="store_true", help="print one JSON line per image")
    return p


def read_image(path: str) -> preprocess.Prepared:
    """A file on disk, preprocessed; a missing or oversized file is an ImageError too."""
    file = Path(path)
    try:
        if file.stat().st_size > preprocess.MAX_BYTES:
            raise ImageError(f"the file is {file.stat().st_size / 1024 / 1024:.1f} MB; the limit is 10 MB.")
        data = file.read_bytes()
    except OSError as e:
        raise ImageError(f"cannot read the file ({e.strerror or e}).") from None
    return preprocess.from_bytes(data)


def predict_files(loaded, paths: list[str], as_json: bool) -> int:
    failures = 0
    for path in paths:
        try:
            prepared = read_image(path)
        except StudioError as e:
            print(f"error: {path}: {e}", file=sys.stderr)
            failures += 1
            continue
        probs = inference.probabilities(loaded.model, prepared.tensor[None])[0]
        top = probs.topk(3)
        names = loaded.class_names
        ranked = [(names[c], float(p)) for p, c in zip(top.values.tolist(), top.indices.tolist())]
        if as_json:
            print_json(
                {
                    "image": path,
                    "top3": [{"class": n, "label": names.index(n), "probability": round(p, 6)} for n, p in ranked],
                }
            )
        else:
            print(f"{path}: " + ", ".join(f"{n} {p:.1%}" for n, p in ranked))
    return 2 if failures else 0


@friendly_errors
def main(argv=None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.test_set == bool(args.images):
        p.error("give image files or --test-set (one of the two).")
    if args.csv and not args.test_set:
        p.error("--csv goes with --test-set.")
    if args.test_set:
        result = evaluation.evaluate(args.checkpoint, data_dir=args.data_dir)
        if args.csv:
            try:
                with open(args.csv, "w", newline="") as f:
                    evaluation.write_predictions_csv(result, f)
            except OSError as e:
                raise StudioError(f"cannot write {args.csv}: {e.strerror or e}.") from None
            print(f"wrote {result.count:,} predictions to {args.csv} (accuracy {result.accuracy:.2%})", file=sys.stderr)
        else:
            evaluation.write_predictions_csv(result, sys.stdout)
        return 0
    return predict_files(checkpoint.load(args.checkpoint), args.images, args.json)


if __name__ == "__main__":
    sys.exit(main())
