"""Command line: python -m core.featurevis CHECKPOINT (--layer NAME | --class NAME) [--json] [--data-dir D].

What a filter wants to see: for each channel of a convolution, or for a class, an input optimised to excite
it most, beside the score of the best of the 10,000 test images. Results are cached per checkpoint.
"""

import argparse
import sys

import numpy as np

from core.analysis import feature_vis
from core.analysis.explanations import class_index
from core.base.errors import StudioError
from core.cli.common import add_data_flags, friendly_errors, print_json
from core.data import dataset
from core.io import checkpoint


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m core.featurevis",
        description="Inputs optimised to excite each channel of a convolution, or a class.",
    )
    p.add_argument("checkpoint", help="a .safetensors checkpoint")
    p.add_argument("--layer", help="a convolution, named as the Feature maps page names it: one line per channel")
    p.add_argument("--class", dest="target", metavar="NAME", help="a class by name or number, or 'all': its logit")
    p.add_argument("--json", action="store_true", help="one JSON line per channel (or class)")
    add_data_flags(p)
    return p


@friendly_errors
def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if (args.layer is None) == (args.target is None):
        raise StudioError(
            "give --layer NAME (each channel of a convolution) or --class NAME (a class), one of the two."
        )
    loaded = checkpoint.load(args.checkpoint)
    names = loaded.class_names
    wanted = None
    if args.layer is not None:
        feature_vis.check_layer(loaded.model, args.layer)  # before any work
    if args.target is not None and args.target.lower() != "all":
        wanted = class_index(args.target, names)
    cached = feature_vis.cached(args.checkpoint, args.layer)
    result = cached or feature_vis.for_checkpoint(args.checkpoint, args.layer, dataset.load(args.data_dir))
    rows = range(len(result.images)) if wanted is None else [wanted]
    for i in rows:
        record = {
            "channel": i,
            "image": np.round(result.images[i].astype(np.float64), 4).tolist(),
            "activation": float(result.activations[i]),
            "top_test_activation": float(result.best_test[i]),
        }
        if args.layer is None:
            record = {"class": names[i], **record}
        if args.json:
            print_json(record)
        else:
            what = f"{args.layer} channel {i}" if args.layer else f"class {names[i]}"
            beats = "at least" if record["activation"] >= record["top_test_activation"] else "BELOW"
            print(
                f"{what}: {record['activation']:.4f}, {beats} the best test image's {record['top_test_activation']:.4f}"
            )
    if not args.json:
        print(
            f"({result.seconds:.1f} s to optimise, once per checkpoint; cached in {feature_vis.cache_path(args.checkpoint)})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
