"""Command line: python -m core.explain CHECKPOINT IMAGE... [--method M] [--target CLASS] [--layer NAME] [--json]."""

import argparse
import sys

import numpy as np

from core.analysis import explanations
from core.base.errors import StudioError
from core.cli.common import friendly_errors, print_json
from core.cli.predict import read_image
from core.io import checkpoint

SHADES = " .:-=+*#%@"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m core.explain", description="Explain a model's answer on image files with a 28x28 heatmap each."
    )
    p.add_argument("checkpoint", help="a .safetensors checkpoint")
    p.add_argument("images", nargs="+", help="PNG, JPEG, WebP, BMP or GIF files (read as core.predict reads them)")
    p.add_argument("--method", default="gradcam", choices=explanations.METHODS, help="default: gradcam")
    p.add_argument("--target", help="the class to explain, by name or number (default: the predicted class)")
    p.add_argument("--layer", help="gradcam: the convolution block to read (default: the last with a map over 1x1)")
    p.add_argument("--json", action="store_true", help="print one JSON line per image")
    return p


def ascii_map(heat: np.ndarray) -> str:
    """A 28x28 heatmap as 28 lines of characters (dense = strong; signed maps by magnitude)."""
    h = np.abs(heat)
    peak = float(h.max()) or 1.0
    levels = np.minimum((h / peak * len(SHADES)).astype(int), len(SHADES) - 1)
    return "\n".join("".join(SHADES[v] * 2 for v in row) for row in levels)


def _rounded(a: np.ndarray, digits: int) -> list:
    return np.round(a.astype(np.float64), digits).tolist()


@friendly_errors
def main(argv=None) -> int:
    args = parser().parse_args(argv)
    loaded = checkpoint.load(args.checkpoint)
    if args.target is not None:
        explanations.class_index(args.target, loaded.class_names)  # a bad class name fails before any work
    if args.method == "gradcam":
        explanations.check_layer(loaded.model, args.layer)
    elif args.layer is not None:
        raise StudioError(f"--layer goes with --method gradcam, not {args.method}.")
    failures = 0
    for path in args.images:
        try:
            prepared = read_image(path)
        except StudioError as e:
            print(f"error: {path}: {e}", file=sys.stderr)
            failures += 1
            continue
        e = explanations.explain(
            loaded.model, prepared.tensor, args.method, args.target, args.layer, loaded.class_names
        )
        if args.json:
            print_json(
                {
                    "image": path,
                    "prediction": e.prediction_name,
                    "target": e.target_name,
                    "method": e.method,
                    "layer": e.layer,
                    "input": _rounded(e.input, 4),
                    "heatmap": _rounded(e.heatmap, 6),
                }
            )
        else:
            where = f" at {e.layer}" if e.layer else ""
            print(
                f"{path}: predicted {e.prediction_name} ({e.probabilities[e.prediction]:.1%}); "
                f"{e.title}{where} for {e.target_name}"
            )
            print(ascii_map(e.heatmap))
    return 2 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
