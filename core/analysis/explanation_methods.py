"""Every explanation method, declared once: its title, whether its map is signed, how to read it, how to
compute it and its speed target. The Explain page, the command line, the deletion check and the benchmark
all list the methods from `METHODS`.

A method's `compute(forward, network, x, target, layer)` gets the model with its normalisation inside
(`forward`, taking (1, 1, 28, 28) images in [0, 1]), the private copy of the network it wraps (for layers),
the input (requiring gradients), the class index and, for Grad-CAM, the layer; it returns a (28, 28) float32
map aligned with the input.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.analysis.map_grid import layer_grid, upsample
from core.base.errors import StudioError

IG_STEPS = 32
OCCLUSION_WINDOW = 4
OCCLUSION_STRIDE = 2

Compute = Callable[[nn.Module, nn.Module, torch.Tensor, int, "str | None"], np.ndarray]


@dataclass(frozen=True)
class Method:
    name: str  # as the command line and URLs spell it
    title: str
    signed: bool  # True: negative values are evidence against the class (drawn in blue)
    how_to_read: str  # a few sentences for a student (Markdown)
    compute: Compute
    bench_ms: float  # p50 target per image on the 2-core CPU for simple_cnn, two_conv and lenet5 (bench/explain.py)
    needs_conv: bool = False  # only for models with a convolution
    uses_layer: bool = False  # reads one layer, chosen by the user (else the last with a map over 1x1)


def _pixels(attr: torch.Tensor) -> np.ndarray:
    return attr.detach().float().cpu().numpy()[0, 0].astype(np.float32)


def _gradcam(forward, network, x, target, layer) -> np.ndarray:
    from captum.attr import LayerGradCam

    module = dict(network.named_modules())[layer]
    cells = LayerGradCam(forward, module).attribute(x, target=target, relu_attributions=True)
    cells = cells.detach().float().cpu().numpy()[0].sum(0)  # one map; several only with split outputs
    return upsample(cells, *layer_grid(network, layer))


def _saliency(forward, network, x, target, layer) -> np.ndarray:
    from captum.attr import Saliency

    return _pixels(Saliency(forward).attribute(x, target=target, abs=False))


def _integrated_gradients(forward, network, x, target, layer) -> np.ndarray:
    from captum.attr import IntegratedGradients

    attr = IntegratedGradients(forward).attribute(
        x, baselines=torch.zeros_like(x), target=target, n_steps=IG_STEPS, internal_batch_size=IG_STEPS
    )
    return _pixels(attr)


def _occlusion(forward, network, x, target, layer) -> np.ndarray:
    from captum.attr import Occlusion

    window, stride = OCCLUSION_WINDOW, OCCLUSION_STRIDE
    attr = Occlusion(forward).attribute(
        x,
        sliding_window_shapes=(1, window, window),
        strides=(1, stride, stride),
        baselines=0.0,
        target=target,
        perturbations_per_eval=256,
    )
    return _pixels(attr)


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "gradcam",
            "Grad-CAM",
            False,
            "Grad-CAM weighs a convolution block's maps by how much the class score rises with each, so the "
            "bright region is *where* the evidence for the class sits. It is coarse: the map is only as fine "
            "as the block's grid (4×4 to 14×14 here), so it says where, not which pixels.",
            _gradcam,
            bench_ms=30.0,
            needs_conv=True,
            uses_layer=True,
        ),
        Method(
            "saliency",
            "Gradient saliency",
            True,
            "The gradient of the class score with respect to each pixel: red pixels would raise the score "
            "if brightened, blue would lower it. It is fast but noisy and local — it tells how the score "
            "reacts to a tiny change, not what the model relied on overall.",
            _saliency,
            bench_ms=30.0,
        ),
        Method(
            "integrated_gradients",
            "Integrated Gradients",
            True,
            "Adds up gradients along a path from a black image to this one, so the values sum to the score "
            "difference between the two. Red pixels pushed towards the class, blue away. Its answer depends "
            "on the baseline: black pixels are never credited, whatever their role.",
            _integrated_gradients,
            bench_ms=300.0,
        ),
        Method(
            "occlusion",
            "Occlusion",
            True,
            "Covers the picture with a black 4×4 patch, one place at a time, and records how much the class "
            "score drops (red) or rises (blue). Easy to trust, but blurry and slow, and a black patch on a "
            "black background changes nothing, so the background always looks unimportant.",
            _occlusion,
            bench_ms=500.0,
        ),
    )
}


def get(name: str) -> Method:
    """The method called `name`, or a one-line StudioError listing them."""
    try:
        return METHODS[name]
    except KeyError:
        raise StudioError(f"unknown method {name!r}; choose one of: {', '.join(METHODS)}.") from None


def applicable(has_conv: bool) -> list[str]:
    """The methods that work on a model with (or without) a convolution, in their order."""
    return [name for name, m in METHODS.items() if has_conv or not m.needs_conv]
