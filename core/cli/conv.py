"""Command line: python -m core.conv CHECKPOINT IMAGE --layer NAME --channel C --at ROW,COL [--json].

One output number of a convolution worked out by hand: the input patch under the kernel, the kernel, the sum
of their products, the bias and the activation after the non-linearity, beside the model's own activation.
"""

import argparse
import sys

import numpy as np

from core.analysis import conv_by_hand
from core.base.errors import StudioError
from core.cli.common import friendly_errors, print_json
from core.cli.predict import read_image
from core.io import checkpoint


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m core.conv", description="Work out one output number of a convolution by hand."
    )
    p.add_argument("checkpoint", help="a .safetensors checkpoint")
    p.add_argument("image", help="a PNG, JPEG, WebP, BMP or GIF file (read as core.predict reads it)")
    p.add_argument("--layer", required=True, help="the convolution, named as the Feature maps page names it")
    p.add_argument("--channel", required=True, type=int, help="the output channel")
    p.add_argument("--at", required=True, metavar="ROW,COL", help="the output cell, e.g. 3,5")
    p.add_argument("--json", action="store_true", help="print one JSON line")
    return p


def cell(text: str) -> tuple[int, int]:
    """'ROW,COL' -> (row, col), or a one-line StudioError."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise StudioError(f"--at takes ROW,COL as two whole numbers, e.g. 3,5; got {text!r}.")
    return int(parts[0]), int(parts[1])


def report(r: conv_by_hand.ByHand) -> str:
    """The record as a few readable lines."""
    inputs = len(r.input_channels)
    k = "×".join(map(str, r.kernel.shape[1:]))
    lines = [
        f"{r.layer}, channel {r.channel}, output cell ({r.row}, {r.col}) of {r.output_shape[0]}×{r.output_shape[1]}",
        f"patch: {inputs} input channel{'s' if inputs > 1 else ''} × {k}, top-left input pixel {r.corner} "
        f"(stride {r.stride[0]}, padding {r.padding[0]}, dilation {r.dilation[0]})",
        f"sum of the {r.products.size} products: {r.sum:.6f}",
        f"bias: {r.bias:.6f}" + ("" if r.has_bias else " (none: batch norm follows)"),
        f"convolution output: {r.conv:.6f} (the model's: {r.model_conv:.6f})",
    ]
    lines += [f"{s.name}: {s.formula}" for s in r.steps]
    if r.stop:
        lines.append(f"then: {r.stop}")
    lines.append(f"activation: {r.activation:.6f}; the model's own: {r.model_activation:.6f} (gap {r.error:.1e})")
    if inputs == 1:
        lines.append("patch:\n" + np.array2string(r.patch[0], precision=3, suppress_small=True))
        lines.append("kernel:\n" + np.array2string(r.kernel[0], precision=3, suppress_small=True))
    return "\n".join(lines)


@friendly_errors
def main(argv=None) -> int:
    args = parser().parse_args(argv)
    row, col = cell(args.at)
    loaded = checkpoint.load(args.checkpoint)
    try:
        prepared = read_image(args.image)
    except StudioError as e:
        raise StudioError(f"{args.image}: {e}") from None
    r = conv_by_hand.compute(loaded.model, prepared.tensor, args.layer, args.channel, row, col)
    if args.json:
        print_json(r.as_json())
    else:
        print(report(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
