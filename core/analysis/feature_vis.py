"""What a filter wants to see: inputs optimised to excite one channel of a convolution, or one class's logit.

Activation maximisation with the Lucid recipe (Olah et al., "Feature Visualization", Distill 2017): the image
is parameterised in Fourier space with each frequency scaled by 1/f^0.75, so gradient steps favour smooth
patterns over pixel noise (the frequency regularisation), and every step sees the image randomly shifted by a
few pixels (jitter), so only patterns that work wherever they sit survive. Pixels go through a sigmoid, so the
image stays in [0, 1] as a real picture does. The full 1/f is too strong on 28×28 pictures: its large smooth
blobs reach black or white before any finer pattern forms, and there the sigmoid leaves the image no way out,
so about one start in four or eight ends far below what a class can reach (LeNet-5's Coat and Sandal). All channels of a layer (or all ten classes) are optimised
together as one batch, and the forward pass stops at the layer it optimises.

A channel's objective is its mean output over the map, the score the top test images are ranked by
(`core.analysis.filter_top_images`), so the two can be compared. Results are cached per checkpoint.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.analysis.explanations import private_copy
from core.base.errors import StudioError
from core.data.classes import MEAN, STD
from core.data.dataset import normalize
from core.io import cache
from core.models import conv_layers, output_count

STEPS = 56
POLISH = 16  # the last steps without jitter: the picture as it will be scored
LR = 1.0  # the length of a step in Fourier space, falling to a tenth by the end
JITTER = 2  # pixels
DECAY = 0.75  # the Fourier weights fall as 1 / frequency ** DECAY
SIZE = 28
CLASSES = "classes"  # the cache's name for the class logits
RECIPE = f"fourier{DECAY}-jitter{JITTER}-steps{STEPS}+{POLISH}-lr{LR}"  # a cached result of another recipe is stale
CACHE_SUFFIX = ".featurevis.npz"
_memory = cache.Memo(32)

Progress = Callable[[int, int], None]  # (steps done, steps in all)


@dataclass
class Optimised:
    """Optimised inputs for the channels of one layer (or for the classes)."""

    layer: str  # a convolution's name, or CLASSES
    images: np.ndarray  # (N, 28, 28) float32 in [0, 1]
    activations: np.ndarray  # (N,) float32: the channel's mean output (or the class logit) on its image
    seconds: float = 0.0  # how long the optimisation took
    best_test: np.ndarray | None = None  # (N,) the same score on the best of the 10,000 test images, when known


class _Reached(Exception):
    """Raised by a hook to end the forward pass at the layer being optimised."""


def _fourier_scale(size: int = SIZE) -> torch.Tensor:
    fy = torch.fft.fftfreq(size)[:, None]
    fx = torch.fft.rfftfreq(size)[None, :]
    freq = torch.sqrt(fx * fx + fy * fy).clamp(min=1.0 / size)
    return size / (freq * size) ** DECAY  # the constant term weighs `size`, so one step moves the whole image visibly


def _pixels(spectrum: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """(N, 28, 15, 2) Fourier coefficients -> (N, 1, 28, 28) images in [0, 1]."""
    field = torch.fft.irfft2(torch.view_as_complex(spectrum) * scale, s=(SIZE, SIZE), norm="ortho")
    return torch.sigmoid(field).unsqueeze(1)


def _jitter(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The batch shifted by up to JITTER pixels (one shift per step), the edges filled by reflection."""
    dy, dx = (int(v) for v in torch.randint(-JITTER, JITTER + 1, (2,), generator=generator))
    padded = F.pad(x, (JITTER, JITTER, JITTER, JITTER), mode="reflect")
    return padded[..., JITTER + dy : JITTER + dy + SIZE, JITTER + dx : JITTER + dx + SIZE]


def check_layer(model: nn.Module, layer: str) -> None:
    """A one-line StudioError unless `layer` is one of the model's convolutions."""
    names = conv_layers(model)
    if layer not in names:
        listed = ", ".join(names) if names else "none (this model has no convolution)"
        raise StudioError(f"unknown layer {layer!r}; convolutions of this model: {listed}.")


def optimise(
    model: nn.Module,
    layer: str | None,
    steps: int = STEPS,
    seed: int = 0,
    progress: Progress | None = None,
) -> Optimised:
    """One image per output channel of convolution `layer` (or, with layer None, per class logit)."""
    started = time.perf_counter()
    twin = private_copy(model)
    for p in twin.parameters():
        p.requires_grad_(False)
    device = next(twin.parameters()).device
    if layer is not None:
        check_layer(twin, layer)
        module = dict(twin.named_modules())[layer]
        count = module.out_channels
    else:
        module, count = None, output_count(twin)  # every class it scores (more than ten once taught)
    score = _scorer(twin, module, count)
    generator = torch.Generator().manual_seed(seed)
    scale = _fourier_scale().to(device)
    spectrum = (torch.randn(count, SIZE, SIZE // 2 + 1, 2, generator=generator) * 0.01).to(device)
    spectrum.requires_grad_(True)
    total = steps + POLISH
    for step in range(total):
        x = _pixels(spectrum, scale)
        if step < steps:
            x = _jitter(x, generator)
        (grad,) = torch.autograd.grad(score(x).sum(), spectrum)
        with torch.no_grad():  # a step of fixed length per image along its gradient, shrinking towards the end
            norm = grad.flatten(1).norm(dim=1).clamp(min=1e-12)[:, None, None, None]
            spectrum += LR * (1 - 0.9 * step / total) * grad / norm
        if progress and (step % 8 == 7 or step == total - 1):
            progress(step + 1, total)
    with torch.no_grad():
        images = _pixels(spectrum, scale)
        values = score(images)
    return Optimised(
        layer if layer is not None else CLASSES,
        images[:, 0].cpu().numpy().astype(np.float32),
        values.cpu().numpy().astype(np.float32),
        time.perf_counter() - started,
    )


def _scorer(twin: nn.Module, module: nn.Module | None, count: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """(N, 1, 28, 28) images in [0, 1] -> (N,) image i's channel-i mean output (or class-i logit)."""
    index = torch.arange(count)

    if module is None:

        def logits(x):
            return twin((x - MEAN) / STD).float()[index, index]

        return logits

    kept = {}

    def stop_here(m, inputs, output):
        kept["out"] = output
        raise _Reached

    def channel_means(x):
        handle = module.register_forward_hook(stop_here)
        try:
            twin((x - MEAN) / STD)
        except _Reached:
            pass
        finally:
            handle.remove()
        return kept.pop("out").float()[index, index].mean((-2, -1))

    return channel_means


def score(model: nn.Module, layer: str | None, images: np.ndarray) -> np.ndarray:
    """Each image's score for its own channel (or class): (N, 28, 28) in [0, 1] -> (N,)."""
    twin = private_copy(model)
    module = None if layer is None else dict(twin.named_modules())[layer]
    x = torch.as_tensor(np.asarray(images, np.float32)).unsqueeze(1).to(next(twin.parameters()).device)
    with torch.no_grad():
        return _scorer(twin, module, len(x))(x).cpu().numpy()


def best_test_logits(model: nn.Module, images: torch.Tensor, batch_size: int = 500) -> np.ndarray:
    """(classes,) each class's highest logit over `images` (N, 28, 28): what the optimised class images compete with."""
    twin = private_copy(model)
    device = next(twin.parameters()).device
    best = torch.full((output_count(twin),), -math.inf)
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            z = twin(normalize(images[start : start + batch_size].to(device))).float().cpu()
            best = torch.maximum(best, z.max(0).values)
    return best.numpy()


# ---- cached per checkpoint -----------------------------------------------------------------------------------


def cache_path(path) -> Path:
    return cache.cache_file(path, CACHE_SUFFIX)


def cached(path, layer: str | None) -> Optimised | None:
    """The stored result for this layer (None: the classes) of this checkpoint version, or None."""
    path = Path(path).resolve()
    key = (*_key(path), layer or CLASSES)
    found = _memory.get(key)
    if found is None:
        stored = _read(path)
        found = stored.get(layer or CLASSES)
        if found is not None:
            _memory.put(key, found)
    return found


def for_checkpoint(
    path, layer: str | None, data=None, progress: Callable[[float, str], None] | None = None
) -> Optimised:
    """The optimised inputs of a checkpoint's layer (None: its classes), beside the best test image's score
    for each, computed at most once per checkpoint version. `progress(fraction, message)` follows the work."""
    from core.analysis import filter_top_images
    from core.data import dataset
    from core.io import checkpoint

    found = cached(path, layer)
    if found is not None:
        return found
    path = Path(path).resolve()
    loaded = checkpoint.load(path)
    data = data if data is not None else dataset.load()
    report = progress or (lambda fraction, message: None)
    if layer is None:
        report(0.0, "scoring the test images")
        best = best_test_logits(loaded.model, data.test_images)
    else:
        check_layer(loaded.model, layer)
        top = filter_top_images.top_images(
            path, data, progress=lambda done, total: report(0.3 * done / total, "finding the best test images")
        )
        best = top.layer(layer).scores[:, 0]
    result = optimise(
        loaded.model, layer, progress=lambda done, total: report(0.3 + 0.7 * done / total, f"step {done} of {total}")
    )
    result.best_test = np.asarray(best, np.float32)
    stored = _read(path)
    stored[result.layer] = result
    _write(path, stored)
    _memory.put((*_key(path), result.layer), result)
    return result


def _key(path: Path) -> tuple:
    stat = path.stat()
    return str(path), stat.st_mtime_ns, stat.st_size


def _read(path: Path) -> dict[str, Optimised]:
    z = cache.read_npz(cache_path(path), cache.version(path))
    if z is None or "names" not in z or str(z.get("recipe")) != RECIPE:
        return {}
    try:
        return {
            str(n): Optimised(
                str(n), z[f"images_{i}"], z[f"activations_{i}"], float(z[f"seconds_{i}"]), z[f"best_test_{i}"]
            )
            for i, n in enumerate(z["names"])
        }
    except KeyError:
        return {}


def _write(path: Path, stored: dict[str, Optimised]) -> None:
    arrays = {"names": np.array(list(stored)), "recipe": np.array(RECIPE)}
    for i, result in enumerate(stored.values()):
        arrays.update(
            {
                f"images_{i}": result.images,
                f"activations_{i}": result.activations,
                f"seconds_{i}": np.array(result.seconds),
                f"best_test_{i}": result.best_test,
            }
        )
    cache.write_npz(cache_path(path), cache.version(path), **arrays)


def picture(image: np.ndarray, side: int = 112, frame: int = 2) -> np.ndarray:
    """One optimised input (28, 28) in [0, 1] as a uint8 grayscale picture about `side` pixels wide (nearest
    neighbour), in a mid-gray frame so a white or black picture still shows its edge on any page."""
    zoom = max(1, side // SIZE)
    pixels = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8).repeat(zoom, 0).repeat(zoom, 1)
    return np.pad(pixels, frame, constant_values=128)
