"""What a model computes on one image: every convolution and pooling output, the first filters, the
probabilities (or, for an MLP, its hidden activations); plus helpers that turn them into image grids.

Hooks live only for the one forward pass and only record the calling thread's pass, so a cached model
shared by several sessions is safe to use.
"""

import math
import threading
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.data.dataset import normalize
from core.models import conv_layers, feature_layers, network_of

ACTIVATIONS = (nn.ReLU, nn.Tanh, nn.GELU, nn.Sigmoid, nn.LeakyReLU)
_LOCK = threading.Lock()


@dataclass
class Layer:
    name: str  # module name, e.g. "conv1.0"
    kind: str  # "Conv2d", "MaxPool2d", "AvgPool2d", "ReLU", ...
    shape: tuple  # (channels, height, width), or (units,) for a hidden layer
    activations: np.ndarray  # float32 with that shape


@dataclass
class FeatureMaps:
    layers: list[Layer]  # convolution and pooling outputs, in forward order
    filters: np.ndarray | None  # first convolution's weights (out, in, k, k)
    probabilities: np.ndarray  # (10,)
    hidden: list[Layer] = field(default_factory=list)  # MLP: each hidden layer's activations
    has_maps: bool = True  # False for a model without convolutions


def compute(model: nn.Module, image: torch.Tensor) -> FeatureMaps:
    """One forward pass of the network (without test-time flip) on a 28x28 image (uint8, or float in [0, 1])
    with temporary hooks."""
    model = network_of(model)
    names = feature_layers(model)
    modules = dict(model.named_modules())
    if names:
        watched = {name: modules[name] for name in names}
    else:
        watched = {name: m for name, m in model.named_modules() if isinstance(m, ACTIVATIONS)}
    device = next(model.parameters()).device
    x = normalize(image.reshape(1, *image.shape[-2:]).to(device))
    caller = threading.get_ident()
    outputs: dict[str, torch.Tensor] = {}
    order: list[str] = []

    def recorder(name):
        def hook(module, inputs, output):
            if threading.get_ident() == caller and name not in outputs:
                outputs[name] = output.detach().float().cpu()[0].contiguous()  # (C, H, W) in plain layout
                order.append(name)

        return hook

    with _LOCK:
        handles = [m.register_forward_hook(recorder(n)) for n, m in watched.items()]
        try:
            with torch.inference_mode():
                probs = F.softmax(model(x).float(), dim=1)[0].cpu().numpy()
        finally:
            for h in handles:
                h.remove()

    layers = [Layer(n, type(watched[n]).__name__, tuple(outputs[n].shape), outputs[n].numpy()) for n in order]
    first_conv = conv_layers(model)[:1]
    filters = modules[first_conv[0]].weight.detach().float().cpu().contiguous().numpy() if first_conv else None
    if names:
        return FeatureMaps(layers, filters, probs)
    hidden = [layer for layer in layers if len(layer.shape) == 1]
    return FeatureMaps([], None, probs, hidden=hidden, has_maps=False)


def _scale(x: np.ndarray) -> np.ndarray:
    """Min-max to [0, 1]; a constant map becomes black."""
    low, high = float(x.min()), float(x.max())
    return (x - low) / (high - low) if high > low else np.zeros_like(x)


def _tile(maps: np.ndarray, columns: int, tile: int, gap: int, background) -> np.ndarray:
    """(N, h, w[, 3]) in [0, 1] -> one grid image, each map enlarged to about `tile` pixels (nearest)."""
    n, h, w = maps.shape[:3]
    zoom = max(1, tile // max(h, w))
    maps = maps.repeat(zoom, axis=1).repeat(zoom, axis=2)
    h, w = h * zoom, w * zoom
    columns = max(1, min(columns, n))
    rows = math.ceil(n / columns)
    shape = (rows * (h + gap) - gap, columns * (w + gap) - gap) + maps.shape[3:]
    grid = np.full(shape, background, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, columns)
        grid[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = maps[i]
    return (grid * 255 + 0.5).astype(np.uint8)


def channel_grid(
    activations: np.ndarray, columns: int = 8, tile: int = 64, per_channel: bool = True, gap: int = 2
) -> np.ndarray:
    """(C, H, W) activations -> a uint8 grayscale grid of C maps (bright = strong response)."""
    a = np.asarray(activations, dtype=np.float32)
    maps = np.stack([_scale(m) for m in a]) if per_channel else _scale(a)
    return _tile(maps, columns, tile, gap, background=0.35)


def diverging(x: np.ndarray) -> np.ndarray:
    """Values in [-1, 1] -> RGB in [0, 1]: negative blue, zero white, positive red."""
    x = np.clip(x, -1, 1)[..., None]
    white, red, blue = np.ones(3), np.array([0.8, 0.1, 0.1]), np.array([0.1, 0.3, 0.8])
    return np.where(x >= 0, white + x * (red - white), white - x * (blue - white)).astype(np.float32)


def filter_grid(weights: np.ndarray, columns: int = 8, tile: int = 64, gap: int = 2) -> np.ndarray:
    """(out, in, k, k) weights -> uint8 RGB grid of the first input channel of each filter."""
    w = np.asarray(weights, dtype=np.float32)[:, 0]
    peak = np.abs(w).reshape(len(w), -1).max(1).clip(min=1e-12)[:, None, None]
    return _tile(diverging(w / peak), columns, tile, gap, background=0.5)


def vector_grid(values: np.ndarray, tile: int = 12) -> np.ndarray:
    """A hidden layer's (units,) activations as a near-square uint8 image, one block per unit."""
    v = _scale(np.asarray(values, dtype=np.float32))
    side = math.ceil(math.sqrt(len(v)))
    padded = np.zeros(side * side, dtype=np.float32)
    padded[: len(v)] = v
    return _tile(padded.reshape(1, side, side), 1, tile * side, 0, background=0)
