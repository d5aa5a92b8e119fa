"""Exports on the full test set: for each shipped checkpoint, ONNX (run by ONNX Runtime) and TorchScript
against PyTorch on all 10,000 test images: largest logit difference, accuracy, agreement, export time, file
size, and test-set inference time with the ratio to PyTorch measured in the same run. Also what the export
libraries cost to import, each in a fresh interpreter.

    python -m bench.export [--images N] [--archs mlp lenet5] [--out export.md]
"""

import argparse
import os
import subprocess
import sys
import time

from core.analysis import export_check, inference
from core.base.device import describe_cpu
from core.data import dataset
from core.io import checkpoint, export
from core.library.catalog import SHIPPED_DIR

ARCHS = ("mlp", "simple_cnn", "two_conv", "lenet5", "resnet18")
LIBRARIES = ("onnx", "onnxruntime", "onnxscript", "pillow_heif")


def import_seconds(module: str) -> float:
    """Seconds to import `module` in a fresh interpreter (best of two)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = [
        float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)
        for _ in range(2)
    ]
    return min(runs)


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def measure(arch: str, images, labels) -> dict:
    path = SHIPPED_DIR / f"{arch}.safetensors"
    loaded = checkpoint.load(path)
    inference.logits(loaded.model, images[:256])  # warm-up
    _, torch_s = timed(lambda: inference.logits(loaded.model, images))
    row = {"arch": arch, "pytorch_s": torch_s}
    for fmt, build in (("onnx", export.to_onnx), ("torchscript", export.to_torchscript)):
        data, export_s = timed(lambda: build(loaded))
        export_check.exported_logits(data, fmt, images[:256])  # warm-up
        _, run_s = timed(lambda: export_check.exported_logits(data, fmt, images))
        check = export_check.check(path, fmt, images, labels, data)
        row[fmt] = {
            "export_s": export_s,
            "mb": len(data) / 1e6,
            "run_s": run_s,
            "max_abs_diff": check.max_abs_diff,
            "accuracy": check.accuracy_exported,
            "pytorch_accuracy": check.accuracy_pytorch,
            "agreement": check.agreement,
            "ok": check.ok,
        }
    return row


def table(rows: list[dict], count: int) -> str:
    lines = [
        f"Exports checked on {count:,} test images (inference time: the whole set, batch 1000 for exports, "
        "256 for PyTorch; ratio = PyTorch time / export time, same run)",
        "",
        "| model | format | export s | MB | max abs diff | accuracy | PyTorch accuracy | agree | run s | "
        "vs PyTorch | ok |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        for fmt in ("onnx", "torchscript"):
            f = r[fmt]
            lines.append(
                f"| {r['arch']} | {fmt} | {f['export_s']:.2f} | {f['mb']:.2f} | {f['max_abs_diff']:.1e} | "
                f"{f['accuracy']:.2%} | {f['pytorch_accuracy']:.2%} | {f['agreement']:.2%} | "
                f"{f['run_s']:.3f} | {r['pytorch_s'] / f['run_s']:.2f}x | {'yes' if f['ok'] else 'NO'} |"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=10_000, help="test images to check (default: all 10,000)")
    p.add_argument("--archs", nargs="+", default=list(ARCHS), choices=ARCHS)
    p.add_argument("--no-imports", action="store_true", help="skip the import-time measurements")
    p.add_argument("--out", help="also write the report here (markdown)")
    args = p.parse_args(argv)
    data = dataset.load()
    images, labels = data.test_images[: args.images], data.test_labels[: args.images]
    print(f"CPU: {describe_cpu()}", flush=True)
    rows = []
    for arch in args.archs:
        rows.append(measure(arch, images, labels))
        print(f"  {arch} done", file=sys.stderr, flush=True)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    report = [f"CPU: {describe_cpu()}; load average at the end {load}", "", table(rows, len(labels))]
    if not args.no_imports:
        report += ["", "| library | import s (fresh interpreter) |", "|---|---|"]
        report += [f"| {m} | {import_seconds(m):.2f} |" for m in LIBRARIES]
    text = "\n".join(report)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return 0 if all(r[f]["ok"] for r in rows for f in ("onnx", "torchscript")) else 1


if __name__ == "__main__":
    sys.exit(main())
