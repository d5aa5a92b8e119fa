"""What each filter looks for: the test images that excite each convolution channel most.

One pass over the test images scores every channel of every convolution layer by its mean activation (the
convolution's output, as the Feature maps page shows it); the top images of each channel are then run
again to keep the channel's own map on each. Results are cached per checkpoint on disk (`core.io.cache`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.analysis.explanations import private_copy
from core.analysis.map_grid import layer_grid, upsample
from core.data import dataset
from core.data.dataset import normalize
from core.io import cache
from core.models import conv_layers

TOP = 9
BATCH = 500
CACHE_SUFFIX = ".filters.npz"
_memory = cache.Memo(16)  # a few MB each for the larger networks

Progress = Callable[[int, int], None]  # (images done, images in all)


@dataclass
class LayerTop:
    name: str  # the convolution, e.g. "conv2.0"
    indices: np.ndarray  # (C, TOP) int64 test-set indices, most exciting first
    scores: np.ndarray  # (C, TOP) float32 mean activation of the channel on each
    maps: np.ndarray  # (C, TOP, h, w) float16: the channel's map on each of its top images
    grid: tuple = (0.0, 1.0)  # (offset, step): map cell j is centred on input pixel offset + step * j

    @property
    def channels(self) -> int:
        return len(self.indices)


@dataclass
class TopImages:
    layers: list[LayerTop]

    def layer(self, name: str) -> LayerTop:
        return next(layer for layer in self.layers if layer.name == name)


def _conv_outputs(model: nn.Module, names: list[str]):
    """Forward hooks on a private copy that keep each named convolution's output of the last pass."""
    modules = dict(model.named_modules())
    outputs: dict[str, torch.Tensor] = {}

    def keep(name):
        def hook(module, inputs, output):
            outputs[name] = output.detach().float()

        return hook

    handles = [modules[n].register_forward_hook(keep(n)) for n in names]
    return outputs, handles


def compute(
    model: nn.Module, images: torch.Tensor, top: int = TOP, batch_size: int = BATCH, progress: Progress | None = None
) -> TopImages:
    """Top `top` images per channel of every convolution of `model`, over `images` (N, 28, 28)."""
    twin = private_copy(model)
    names = conv_layers(twin)
    device = next(twin.parameters()).device
    outputs, handles = _conv_outputs(twin, names)
    scores = {n: [] for n in names}
    total = len(images)
    try:
        with torch.inference_mode():
            for start in range(0, total, batch_size):
                twin(normalize(images[start : start + batch_size].to(device)))
                for n in names:
                    scores[n].append(outputs[n].mean((2, 3)).cpu())
                if progress:
                    progress(min(start + batch_size, total), total)
            k = min(top, total)
            best = {}
            for n in names:
                s = torch.cat(scores[n])  # (N, C)
                value, index = s.topk(k, dim=0)  # (k, C), ties broken by torch
                best[n] = (index.T.contiguous(), value.T.contiguous())
            wanted = torch.unique(torch.cat([best[n][0].flatten() for n in names]))
            twin(normalize(images[wanted].to(device)))
            position = {int(i): j for j, i in enumerate(wanted.tolist())}
            layers = []
            for n in names:
                index, value = best[n]
                rows = torch.tensor([[position[int(i)] for i in row] for row in index.tolist()])
                channel = torch.arange(len(index))[:, None].expand_as(rows)
                maps = outputs[n].cpu()[rows, channel]  # (C, k, h, w)
                layers.append(
                    LayerTop(
                        n,
                        index.numpy().astype(np.int64),
                        value.numpy().astype(np.float32),
                        maps.numpy().astype(np.float16),
                        layer_grid(twin, n),
                    )
                )
    finally:
        for h in handles:
            h.remove()
    return TopImages(layers)


def cache_path(path) -> Path:
    return cache.cache_file(path, CACHE_SUFFIX)


def cached(path) -> "TopImages | None":
    """The stored result for this checkpoint version, or None (no computation)."""
    path = Path(path).resolve()
    key = _key(path)
    result = _memory.get(key) or _read(path, key)
    if result is not None:
        _memory.put(key, result)
    return result


def top_images(path, data: "dataset.FashionMNIST | None" = None, progress: Progress | None = None) -> TopImages:
    """The top images of every channel of a checkpoint's convolutions over the 10,000 test images, computed
    at most once per checkpoint version."""
    from core.io import checkpoint

    result = cached(path)
    if result is not None:
        if progress:
            progress(1, 1)
        return result
    path = Path(path).resolve()
    key = _key(path)
    data = data if data is not None else dataset.load()
    result = compute(checkpoint.load(path).model, data.test_images, progress=progress)
    _write(path, key, result)
    _memory.put(key, result)
    return result


def _key(path: Path) -> tuple:
    stat = path.stat()
    return str(path), stat.st_mtime_ns, stat.st_size


def _read(path: Path, key: tuple) -> "TopImages | None":
    z = cache.read_npz(cache_path(path), key[1:])
    if z is None or "names" not in z:
        return None
    try:
        return TopImages(
            [
                LayerTop(str(n), z[f"indices_{i}"], z[f"scores_{i}"], z[f"maps_{i}"], tuple(z[f"grid_{i}"]))
                for i, n in enumerate(z["names"])
            ]
        )
    except KeyError:
        return None


def _write(path: Path, key: tuple, result: TopImages) -> None:
    arrays = {"names": np.array([layer.name for layer in result.layers])}
    for i, layer in enumerate(result.layers):
        arrays.update(
            {
                f"indices_{i}": layer.indices,
                f"scores_{i}": layer.scores,
                f"maps_{i}": layer.maps,
                f"grid_{i}": np.array(layer.grid),
            }
        )
    cache.write_npz(cache_path(path), key[1:], **arrays)


def channel_picture(
    images: np.ndarray, maps: np.ndarray, grid: tuple = (0.0, 1.0), columns: int = 3, zoom: int = 2, gap: int = 2
) -> np.ndarray:
    """One channel's top images (k, 28, 28) uint8, each tinted by the channel's own map on it (k, h, w),
    aligned with the pixels (`grid` as in LayerTop), above its median and scaled together: a uint8 RGB grid, strongest first."""
    k = len(images)
    maps = maps.astype(np.float32)
    low, high = float(np.median(maps)), float(maps.max())  # the median: mostly background, often not zero
    strength = np.clip((maps - low) / (high - low), 0, 1) if high > low else np.zeros_like(maps)
    tiles = []
    for image, m in zip(images, strength):
        m28 = upsample(m, *grid)
        gray = image.astype(np.float32)[..., None] / 255.0
        tint = np.stack([m28, 0.55 * m28, 0.1 * m28], axis=-1)  # orange where the channel responds
        tiles.append(np.clip(0.55 * gray + 0.75 * tint, 0, 1))
    side = 28 * zoom
    rows = -(-k // columns)
    grid = np.full((rows * (side + gap) - gap, columns * (side + gap) - gap, 3), 0.35, dtype=np.float32)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        grid[r * (side + gap) : r * (side + gap) + side, c * (side + gap) : c * (side + gap) + side] = tile.repeat(
            zoom, 0
        ).repeat(zoom, 1)
    return (grid * 255 + 0.5).astype(np.uint8)
