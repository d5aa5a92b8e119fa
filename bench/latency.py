"""Latency per model: classify one drawn image end to end, all feature maps of one image, the whole test set.

Measured in a fresh interpreter that imports `core` as the app does (idle OpenMP threads sleep), not in the
benchmark's own process, whose threads spin (core.dedicate_cores): the figures are the app's.
python -m bench.latency [--repeats N] [--test-repeats N] [--test-images N] [--device cpu] prints JSON rows.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from core import featuremaps, inference, preprocess
from bench.drawing import tshirt_rgba
from bench.timing import latency_ms

ROOT = Path(__file__).resolve().parent.parent


def classify(model, rgba):
    """What the Classify page does with a drawing: preprocess, then one forward pass."""
    prepared = preprocess.from_canvas(rgba)
    return inference.probabilities(model, prepared.tensor[None])[0].tolist()


def measure(models, data, repeats: int, test_repeats: int, test_images=None) -> list[dict]:
    """One row per model: p50/p95 ms of classify, feature maps and test-set evaluation."""
    rgba = tshirt_rgba()
    image = data.test_images[0]
    test_images = data.test_images if test_images is None else test_images
    rows = []
    for label, model in models:
        rows.append({
            "model": label,
            "classify": latency_ms(lambda: classify(model, rgba), repeats),
            "feature_maps": latency_ms(lambda: featuremaps.compute(model, image), repeats),
            "test_set": latency_ms(lambda: inference.probabilities(model, test_images), test_repeats, warmup=0),
            "test_images": len(test_images),
        })
    return rows


def measure_like_app(repeats: int, test_repeats: int, test_images: int | None = None, device: str = "auto"):
    """`measure` on every benchmark model, run in a fresh interpreter with the app's thread settings."""
    cmd = [sys.executable, "-m", "bench.latency", "--repeats", str(repeats), "--test-repeats", str(test_repeats),
           "--device", device] + (["--test-images", str(test_images)] if test_images else [])
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child(args) -> list[dict]:
    from bench.models import bench_models
    from core import data as dataset
    from core.device import configure_threads, pick_device
    configure_threads()
    device = pick_device(args.device)
    data = dataset.load(allow_download=False)
    loaded = [(label, m.to(device)) for label, m in bench_models()]
    test_images = data.test_images[: args.test_images] if args.test_images else None
    return measure(loaded, data, args.repeats, args.test_repeats, test_images)


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="python -m bench.latency")
    p.add_argument("--repeats", type=int, default=50)
    p.add_argument("--test-repeats", type=int, default=5)
    p.add_argument("--test-images", type=int)
    p.add_argument("--device", default="auto")
    print(json.dumps(_child(p.parse_args())))
