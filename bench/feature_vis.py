"""What a filter wants to see, timed: python -m bench.feature_vis [--quick] [--models simple_cnn,...].

For every convolution of the shipped CNNs (ResNet-18: its first convolution and the first of each stage, and its
deepest), the optimised inputs of all channels (core.analysis.feature_vis.optimise), timed in wall and CPU
seconds, with how many of them excite their channel at least as much as the channel's best test image
(core.analysis.filter_top_images). Target: a layer's set in <= 30 s on the 2-core CPU (ResNet-18's deepest layers
may take longer). On a machine shared with other work the CPU seconds are the steadier figure.
"""

import core  # noqa: F401  (OMP_WAIT_POLICY=PASSIVE before torch loads)

# isort: split
import argparse
import os
import time
from pathlib import Path

from bench.targets import mark

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 30.0
RESNET_LAYERS = ("stem.0", "layer1.0.conv1", "layer2.0.conv1", "layer3.0.conv1", "layer4.0.conv1", "layer4.1.conv2")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.feature_vis", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="lenet5 and simple_cnn only")
    p.add_argument("--models", help="comma-separated shipped checkpoints (default: every CNN)")
    p.add_argument("--classes", action="store_true", help="also the class images of each model")
    args = p.parse_args(argv)
    from core.analysis import feature_vis, filter_top_images
    from core.base.device import configure_threads
    from core.data import dataset
    from core.io import checkpoint
    from core.models import conv_layers

    threads = configure_threads()
    names = args.models.split(",") if args.models else ["lenet5", "simple_cnn", "two_conv", "resnet18"]
    if args.quick:
        names = ["lenet5", "simple_cnn"]
    data = dataset.load()
    print(
        f"# bench.feature_vis — {os.cpu_count()} cores, {threads} threads, recipe {feature_vis.RECIPE}; load average "
        + " ".join(f"{x:.1f}" for x in os.getloadavg())
    )
    print(
        f"{'model':<11} {'layer':<16} {'channels':>8} {'wall s':>8} {'CPU s':>8} {'>= best test':>13} {'least margin':>13}"
    )
    for name in names:
        path = ROOT / "checkpoints" / f"{name}.safetensors"
        model = checkpoint.load(path).model
        top = filter_top_images.compute(model, data.test_images)
        layers = [n for n in conv_layers(model) if name != "resnet18" or n in RESNET_LAYERS]
        for layer in layers + ([None] if args.classes else []):
            wall, cpu = time.perf_counter(), time.process_time()
            found = feature_vis.optimise(model, layer)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            best = top.layer(layer).scores[:, 0] if layer else feature_vis.best_test_logits(model, data.test_images)
            beats = int((found.activations >= best).sum())
            ok = wall <= TARGET_S if layer else None
            print(
                f"{name:<11} {layer or 'classes':<16} {len(best):>8} {wall:>8.1f} {cpu:>8.1f} "
                f"{f'{beats}/{len(best)}':>13} {float((found.activations - best).min()):>13.3f}  {mark(ok)}",
                flush=True,
            )


if __name__ == "__main__":
    main()
