"""Which explanation to trust: the deletion curve (Petsiuk et al., RISE, 2018).

Black out the pixels a map ranks highest, a growing share at a time, and watch the class probability: a
map that found what the model relies on makes it fall fast; pixels blacked out in a random order are the
yardstick. Ranking is by the map's value (largest first, so a signed map's evidence for the class comes
first); ties are broken in one fixed random order, so a map that is flat over the background does not
favour the top rows. The area under the curve (its mean over the shares) sums it up: lower is more faithful.
"""

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.analysis import inference
from core.models import network_of

FRACTIONS = tuple(round(0.05 * i, 2) for i in range(11))  # 0 % to 50 % of the pixels, in steps of 5 %
RANDOM_ORDERS = 8


@dataclass
class Curve:
    fractions: np.ndarray  # (F,) shares of the pixels blacked out
    probabilities: np.ndarray  # (F,) the class probability with the map's top-ranked pixels blacked out
    random: np.ndarray  # (F,) the same in random orders (their mean)

    @property
    def area(self) -> float:
        """Mean probability over the shares (lower: the map finds what matters sooner)."""
        return float(np.mean(self.probabilities))

    @property
    def random_area(self) -> float:
        return float(np.mean(self.random))


def _as_pixels(image) -> np.ndarray:
    """uint8 or [0, 1] (28, 28) image, array or tensor -> float32 in [0, 1]."""
    a = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    a = a.reshape(a.shape[-2:])
    return a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32)


def _blacked(pixels: np.ndarray, order: np.ndarray, fractions) -> np.ndarray:
    """(F, 28, 28): `pixels` with the first share of `order` (flat pixel indices) set to black."""
    out = np.repeat(pixels.reshape(1, -1), len(fractions), axis=0)
    for i, share in enumerate(fractions):
        out[i, order[: int(round(share * order.size))]] = 0.0
    return out.reshape(len(fractions), *pixels.shape)


def _probability(model: nn.Module, images: np.ndarray, target: int) -> np.ndarray:
    """The class probability of the network itself (one pass, no mirror image), as the maps explain it."""
    found = inference.probabilities(network_of(model), torch.from_numpy(images))
    return found[:, target].cpu().numpy().astype(np.float32)


def random_curve(
    model: nn.Module, image, target: int, fractions=FRACTIONS, orders: int = RANDOM_ORDERS, seed: int = 0
) -> np.ndarray:
    """(F,) the class probability with pixels blacked out in random orders (the mean over `orders`)."""
    pixels = _as_pixels(image)
    rng = np.random.default_rng(seed)
    batch = np.concatenate([_blacked(pixels, rng.permutation(pixels.size), fractions) for _ in range(orders)])
    return _probability(model, batch, target).reshape(orders, len(fractions)).mean(0)


def ranking(heatmap: np.ndarray, seed: int = 0) -> np.ndarray:
    """Flat pixel indices, highest map value first; equal values in one fixed random order."""
    values = np.asarray(heatmap, np.float64).ravel()
    tie_break = np.random.default_rng(seed).permutation(values.size)
    return np.lexsort((tie_break, -values))


def curve(
    model: nn.Module, image, heatmap: np.ndarray, target: int, fractions=FRACTIONS, random: np.ndarray | None = None
) -> Curve:
    """The deletion curve of one map for class `target` (pass `random` to reuse a random_curve)."""
    pixels = _as_pixels(image)
    probabilities = _probability(model, _blacked(pixels, ranking(heatmap), fractions), target)
    if random is None:
        random = random_curve(model, image, target, fractions)
    return Curve(np.asarray(fractions, np.float32), probabilities, np.asarray(random, np.float32))


def curves(model: nn.Module, image, heatmaps: dict[str, np.ndarray], target: int) -> dict[str, Curve]:
    """One curve per named map, all against the same random baseline."""
    random = random_curve(model, image, target)
    return {name: curve(model, image, heat, target, random=random) for name, heat in heatmaps.items()}
