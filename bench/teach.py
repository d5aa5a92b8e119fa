"""Teaching a new class: how long it takes and what the new model knows.

    python -m bench.teach [--checkpoint checkpoints/two_conv.safetensors] [--dev] [--json OUT]

For each item the dataset lacks (hat, sock, scarf), the model is taught its 10 drawings in
bench/data/teach/<item>/teach_*.png (`python -m bench.sketches` draws them), then judged on what it never saw:
- the item's 20 other drawings (heldout_*.png: other seeds, every style): the share that gets the new class;
- 30 drawings of the ten built-in classes (builtin/): how many keep the old model's answer;
- the 10,000 test images: accuracy before and after (the new checkpoint evaluated for real).
The same fit without the redrawn training images (the naive fit) is measured beside it: the shortcut.
Times: the first teach with an empty feature cache, then with the features on disk, then in memory.
`--dev` runs the tuning items (glove, tie, belt, mitten, and the look-alikes slipper, vest, shorts, skirt) and the
dev/builtin drawings instead: the only drawings any setting was tuned on.
"""

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bench import sketches
from core.analysis import evaluation, feature_bank, inference
from core.base.device import configure_threads
from core.data import dataset
from core.io import checkpoint, preprocess
from core.training import teach

ITEMS = ("hat", "sock", "scarf")
TARGET_RECALL = 0.8
TARGET_DROP = 0.01
SHIPPED = Path(__file__).resolve().parents[1] / "checkpoints"


def prepared(paths) -> torch.Tensor:
    return torch.stack([preprocess.from_bytes(Path(p).read_bytes()).tensor for p in paths])


def timed_teach(base, examples, data, name: str, **options):
    """The taught model, the wall-clock seconds and the CPU seconds (every thread) it took."""
    start, cpu = time.perf_counter(), time.process_time()
    taught = teach.teach(base, name, examples, data, **options)
    return taught, time.perf_counter() - start, time.process_time() - cpu


def judge(base, taught, path: Path, heldout: torch.Tensor, builtin: torch.Tensor, names: list[str]) -> dict:
    """The saved checkpoint, loaded as every page loads it, on drawings it never saw."""
    teach.save(taught, base, path)
    new = checkpoint.load(path)
    got = inference.probabilities(new.model, heldout).argmax(1).numpy()
    before = inference.probabilities(base.model, builtin).argmax(1).numpy()
    after = inference.probabilities(new.model, builtin).argmax(1).numpy()
    truth = np.array([base.class_names.index(n) for n in names])
    return {
        "heldout_drawings": len(got),
        "heldout_recall": float((got == taught.new_class).mean()),
        "builtin_drawings": len(after),
        "builtin_kept": int((after == before).sum()),
        "builtin_taken": [names[i] for i in np.flatnonzero(after == taught.new_class)],
        "builtin_right_before": int((before == truth).sum()),
        "builtin_right_after": int((after == truth).sum()),
    }


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.teach", description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default=str(SHIPPED / "two_conv.safetensors"))
    p.add_argument("--dev", action="store_true", help="the tuning drawings (bench/data/teach/dev) instead")
    p.add_argument("--no-naive", action="store_true", help="skip the naive fit")
    p.add_argument("--json", help="write every figure here")
    p.add_argument("--data-dir")
    args = p.parse_args()
    configure_threads()
    data = dataset.load(args.data_dir)
    base = checkpoint.load(args.checkpoint)
    root = sketches.DATA / "dev" if args.dev else sketches.DATA
    items = (*sketches.DEV_ITEMS, *sketches.LOOKALIKE_ITEMS) if args.dev else ITEMS
    builtin_files = sketches.builtin_files(root / "builtin")
    builtin = prepared([f for f, _ in builtin_files])
    builtin_names = [n for _, n in builtin_files]
    out = {"checkpoint": args.checkpoint, "load": os.getloadavg(), "cpus": os.cpu_count(), "items": {}}

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FMNIST_CACHE_DIR"] = tmp  # an empty feature cache: the first teach computes the features
        feature_bank._memory.clear()
        first = prepared(sorted((root / items[0]).glob("teach_*.png")))
        _, out["seconds_uncached"], out["cpu_seconds_uncached"] = timed_teach(base, first, data, "Item")
        feature_bank._memory.clear()
        _, out["seconds_from_disk"], out["cpu_seconds_from_disk"] = timed_teach(base, first, data, "Item")
        in_memory = [timed_teach(base, first, data, "Item")[1:] for _ in range(3)]
        out["seconds_in_memory"] = float(np.median([t for t, _ in in_memory]))
        out["cpu_seconds_in_memory"] = float(np.median([c for _, c in in_memory]))

        for item in items:
            folder = root / item
            examples = prepared(sorted(folder.glob("teach_*.png")))
            heldout = prepared(sorted(folder.glob("heldout_*.png")))
            name = item.capitalize()
            row = {}
            for kind, redrawn in (("fit", True), ("naive", False))[: 1 if args.no_naive else 2]:
                taught, seconds, _ = timed_teach(base, examples, data, name, redrawn=redrawn)
                path = Path(tmp) / f"{item}-{kind}.safetensors"
                row[kind] = {
                    "seconds": seconds,
                    "inner_held_out_accuracy": taught.held_out_accuracy,
                    "test_before_features": taught.accuracy_before,
                    "test_after_features": taught.accuracy_after,
                    **judge(base, taught, path, heldout, builtin, builtin_names),
                }
                if kind == "fit":
                    real = evaluation.evaluate(path, data)
                    row[kind]["test_after_checkpoint"] = real.accuracy
                    row[kind]["test_before_checkpoint"] = evaluation.evaluate(Path(args.checkpoint), data).accuracy
            out["items"][name] = row
    report(out)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


def report(out: dict) -> None:
    load = ", ".join(f"{x:.1f}" for x in out["load"])
    print(f"{out['checkpoint']} · {out['cpus']} CPUs · load average at start {load}")
    print(
        f"teach 10 examples, wall-clock (CPU seconds of all threads): {out['seconds_uncached']:.1f} s "
        f"({out['cpu_seconds_uncached']:.1f}) with no cached features, {out['seconds_from_disk']:.1f} s "
        f"({out['cpu_seconds_from_disk']:.1f}) with the features on disk, {out['seconds_in_memory']:.1f} s "
        f"({out['cpu_seconds_in_memory']:.1f}) in memory (median of 3)"
    )
    print()
    print(
        "| item | fit | other drawings → new class | built-in drawings keep their answer | taken | test before → after | drop |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, row in out["items"].items():
        for kind, r in row.items():
            before = r.get("test_before_checkpoint", r["test_before_features"])
            after = r.get("test_after_checkpoint", r["test_after_features"])
            recall_ok = "PASS" if r["heldout_recall"] >= TARGET_RECALL else "FAIL"
            kept_ok = "PASS" if r["builtin_kept"] == r["builtin_drawings"] else "FAIL"
            drop_ok = "PASS" if before - after <= TARGET_DROP else "FAIL"
            label = "with redrawn classes" if kind == "fit" else "naive"
            print(
                f"| {name} | {label} | {r['heldout_recall']:.0%} of {r['heldout_drawings']} ({recall_ok}) | "
                f"{r['builtin_kept']} of {r['builtin_drawings']} ({kept_ok}) | {', '.join(r['builtin_taken']) or '-'} | "
                f"{before:.2%} → {after:.2%} | {(before - after) * 100:.2f} pt ({drop_ok}) |"
            )


if __name__ == "__main__":
    main()
