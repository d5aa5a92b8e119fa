"""Speed of the explanation pages: each attribution method per CNN, PCA / t-SNE / UMAP of the test set, and the
"what each filter looks for" pass. `python -m bench.explain [--quick]`.

Every figure is printed beside a baseline measured in the same run (one forward pass of the same model on one
image, or PCA for the projections), with the CPU's vector features, so runs on other machines compare by ratio.
Targets (2-core CPU): each method's p50 for simple_cnn, two_conv and lenet5 is at most its record's `bench_ms`
(core.analysis.explanation_methods: Grad-CAM and saliency 30 ms, Integrated Gradients 300 ms, occlusion
500 ms); PCA of 10,000 <= 2 s; filter top images <= 30 s per checkpoint.
"""

import argparse
import os
import time
from pathlib import Path

import torch

from bench.targets import mark
from bench.timing import percentile

ROOT = Path(__file__).resolve().parents[1]
CNNS = ("simple_cnn", "two_conv", "lenet5")
PCA_S, TOP_IMAGES_S = 2.0, 30.0


def timed(fn, repeats: int, warmup: int = 2) -> dict:
    """p50 of wall and of CPU time (this process, all threads) in ms: on a shared machine the CPU time shows
    what the work costs when the wall time mostly measures waiting for a core."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - w) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return {"p50": percentile(wall, 50), "cpu": percentile(cpu, 50)}


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def both(fn) -> tuple[float, float]:
    """(wall, CPU) seconds of one call."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def bench_methods(data, repeats: int, models) -> None:
    from core.analysis import explanation_methods, explanations, inference
    from core.io import checkpoint

    print(
        f"\n## Explanations: p50 ms per image, wall / CPU time, {repeats} test images each "
        "(ratio: wall against one forward pass)"
    )
    print(f"{'model':<11} {'forward':>12} " + " ".join(f"{m:>24}" for m in explanation_methods.METHODS))
    for name in models:
        model = checkpoint.load(ROOT / "checkpoints" / f"{name}.safetensors").model
        images = iter(data.test_images[i] for i in range(10_000))
        base = timed(lambda: inference.logits(model, next(images)[None]), repeats)
        cells = []
        for method, record in explanation_methods.METHODS.items():
            if record.needs_conv and not explanations.gradcam_layers(model):
                cells.append("no convolution")
                continue
            images = iter(data.test_images[i] for i in range(10_000))
            t = timed(lambda: explanations.explain(model, next(images), method), repeats)
            ok = t["p50"] <= record.bench_ms if name in CNNS else None
            cells.append(f"{t['p50']:6.1f}/{t['cpu']:6.1f} {t['p50'] / base['p50']:4.0f}x {mark(ok):>4}")
        print(f"{name:<11} {base['p50']:5.2f}/{base['cpu']:5.2f} " + " ".join(f"{c:>24}" for c in cells))


def bench_projections(data, size: int, methods) -> None:
    from core.analysis import embeddings
    from core.io import checkpoint

    model = checkpoint.load(ROOT / "checkpoints" / "simple_cnn.safetensors").model
    indices = embeddings.sample(size)
    images = data.test_images[torch.from_numpy(indices)]
    labels = data.test_labels.numpy()[indices]
    t_features = seconds(lambda: embeddings.features(model, images))
    x = embeddings.features(model, images)
    print(
        f"\n## Projections of {size:,} test images (simple_cnn's {x.shape[1]} features; reading them took "
        f"{t_features:.2f} s)"
    )
    first = {}
    for method in methods:
        embeddings.project(x[:200], method)  # imports and (UMAP) compiles once, untimed
        out = {}
        first[method], cpu = both(lambda: out.setdefault("xy", embeddings.project(x, method)))
        xy = out["xy"]
        ok = first[method] <= PCA_S if method == "pca" else None
        ratio = f"{first[method] / first['pca']:7.0f}x PCA" if method != "pca" else ""
        print(
            f"{embeddings.TITLES[method]:<6} {first[method]:8.2f} s wall {cpu:7.2f} s CPU {ratio:>12}   10-NN agreement in 2-D "
            f"{embeddings.neighbour_accuracy(xy, labels):.1%}  {mark(ok)}"
        )


def bench_top_images(data, models) -> None:
    from core.analysis import filter_top_images
    from core.io import checkpoint

    print("\n## What each filter looks for: one pass over the 10,000 test images (baseline: plain inference)")
    from core.analysis import inference

    for name in models:
        model = checkpoint.load(ROOT / "checkpoints" / f"{name}.safetensors").model
        base = seconds(lambda: inference.logits(model, data.test_images))
        took, cpu = both(lambda: filter_top_images.compute(model, data.test_images))
        ok = took <= TOP_IMAGES_S
        print(
            f"{name:<11} {took:6.2f} s wall {cpu:6.2f} s CPU ({took / base:4.1f}x inference {base:.2f} s)  {mark(ok)}"
        )


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.explain", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats, 2,000 points, no resnet18")
    args = p.parse_args(argv)
    from core.base.device import configure_threads, describe_cpu
    from core.data import dataset

    threads = configure_threads()
    print(
        f"# bench.explain — {describe_cpu()}, "
        f"torch {torch.__version__}, {threads} threads, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}"
    )
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    data = dataset.load()
    models = CNNS if args.quick else CNNS + ("resnet18", "mlp")
    bench_methods(data, 10 if args.quick else 30, models)
    bench_projections(data, 2000 if args.quick else 10_000, ("pca", "tsne", "umap"))
    if not args.quick:
        bench_projections(data, 2000, ("pca", "tsne", "umap"))
    bench_top_images(data, CNNS if args.quick else CNNS + ("resnet18",))


if __name__ == "__main__":
    main()
