"""Command line: python -m core.export CHECKPOINT --format onnx|torchscript --out FILE [--check N]."""

import argparse
import sys

from core.analysis import export_check
from core.base.errors import StudioError
from core.cli.common import add_data_flags, friendly_errors
from core.data import dataset
from core.io import export


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m core.export",
        description="Export a checkpoint to ONNX or TorchScript. The exported model takes float32 pixels "
        "(N, 1, 28, 28) in [0, 1], light garment on black, and returns the 10 logits.",
    )
    p.add_argument("checkpoint", help="a .safetensors checkpoint")
    p.add_argument("--format", required=True, choices=sorted(export.FORMATS), help="onnx or torchscript")
    p.add_argument("--out", required=True, help="the file to write (.onnx or .pt)")
    p.add_argument(
        "--check",
        type=int,
        default=0,
        metavar="N",
        help="then run the exported file on N test images and compare with PyTorch (needs the dataset)",
    )
    add_data_flags(p)
    return p


@friendly_errors
def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.check < 0:
        raise StudioError("--check must be 0 or a positive number of test images.")
    out = export.export(args.checkpoint, args.format, args.out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {args.format})", file=sys.stderr)
    if args.check:
        data = dataset.load(args.data_dir)
        n = min(args.check, len(data.test_labels))
        result = export_check.check(
            args.checkpoint, args.format, data.test_images[:n], data.test_labels[:n], out.read_bytes()
        )
        print(
            f"checked on {n:,} test images: max |logit difference| {result.max_abs_diff:.2e}, accuracy "
            f"{result.accuracy_exported:.2%} (PyTorch {result.accuracy_pytorch:.2%})",
            file=sys.stderr,
        )
        if not result.ok:
            raise StudioError("the exported model does not match PyTorch.")
    return 0
