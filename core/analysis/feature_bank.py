"""The penultimate features a new class is fitted against, computed once per network and cached.

Four sets, each with its labels:
- `photos`: a fixed, class-balanced sample of the training images, as the model saw them in training;
- `drawings`: another sample of training images redrawn as a student would draw them (core.io.drawn), so
  the fit sees drawings of the ten classes too, not only of the new one;
- `sketches`: a third sample redrawn as outline sketches with every inner edge (core.io.drawn.as_sketches),
  closer to how a student draws one of the ten: with them the new row learns to tell its item from a drawn
  shirt or sandal, not only from a photo;
- `test`: the 10,000 test images, for the accuracy before and after.

The cache key is the network without its output layer (its weights, architecture and test-time flip): a
model taught a class has the same features as the model it was taught from, so teaching it again reuses
them. Kept as float16, about 263 MB in memory for the shipped two_conv's 6,272 features per image (larger
feature vectors get proportionally fewer rows), and deflated on disk (`core.io.cache`: the user's cache folder),
where the same bits take about 76 MB: after a ReLU four features in five are zero.
"""

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.analysis import penultimate
from core.data import dataset
from core.data.dataset import FashionMNIST
from core.io import cache, drawn
from core.models import network_of, uses_flip_averaging

PHOTOS_PER_CLASS = 500
DRAWINGS_PER_CLASS = 300
SKETCHES_PER_CLASS = 300
MAX_BYTES = 280 * 1024 * 1024  # of float16 features per network (two_conv's whole bank fits)
SEED = 0
VERSION = 3  # bump when what is stored changes (the redrawing of core.io.drawn too)
_memory = cache.Memo(1)  # up to 263 MB (two_conv): the last network taught stays in memory, others come from disk
_lock = threading.Lock()  # one bank computed at a time


@dataclass
class FeatureBank:
    photos: torch.Tensor  # (P, D) float16
    photo_labels: torch.Tensor  # (P,) int64
    drawings: torch.Tensor  # (Q, D) float16
    drawing_labels: torch.Tensor  # (Q,) int64
    sketches: torch.Tensor  # (S, D) float16
    sketch_labels: torch.Tensor  # (S,) int64
    test: torch.Tensor  # (T, D) float16
    test_labels: torch.Tensor  # (T,) int64
    test_indices: torch.Tensor  # (T,) positions in the official test set
    from_cache: bool = False

    @property
    def dimension(self) -> int:
        return self.photos.shape[1]


def key(model: torch.nn.Module) -> str:
    """What the features depend on: every tensor of the network except its output layer, and test-time flip."""
    layer = penultimate.usable_layer(model)
    digest = hashlib.sha1(f"v{VERSION}-{type(network_of(model)).__name__}-{uses_flip_averaging(model)}".encode())
    for name, tensor in network_of(model).state_dict().items():
        if name.rpartition(".")[0] == layer:
            continue
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def cache_path(bank_key: str) -> Path:
    return cache.cache_dir() / f"teach-features-{bank_key}.npz"


def sizes(dimension: int) -> tuple[int, int, int, int]:
    """Photos, drawings and sketches per class and test images for a feature vector of `dimension` numbers."""
    full = 10 * (PHOTOS_PER_CLASS + DRAWINGS_PER_CLASS + SKETCHES_PER_CLASS) + 10_000
    share = min(1.0, MAX_BYTES / (2 * dimension * full))
    return (
        max(50, int(PHOTOS_PER_CLASS * share)),
        max(30, int(DRAWINGS_PER_CLASS * share)),
        max(30, int(SKETCHES_PER_CLASS * share)),
        int(10_000 * share),
    )


def balanced(labels: torch.Tensor, per_class: int, seed: int, exclude: torch.Tensor | None = None) -> torch.Tensor:
    """`per_class` indices of each class drawn at random (sorted), leaving out `exclude`."""
    g = torch.Generator().manual_seed(seed)
    allowed = torch.ones(len(labels), dtype=torch.bool)
    if exclude is not None:
        allowed[exclude] = False
    out = []
    for c in range(int(labels.max()) + 1):
        pool = torch.nonzero((labels == c) & allowed).flatten()
        out.append(pool[torch.randperm(len(pool), generator=g)[:per_class]])
    return torch.cat(out).sort().values


def bank(model: torch.nn.Module, data: FashionMNIST | None = None, data_dir=None) -> FeatureBank:
    """The model's feature bank: from memory, else from the disk cache, else computed (and stored)."""
    bank_key = key(model)
    with _lock:
        found = _memory.get(bank_key)
        if found is not None:
            return found
        stored = cache.read_npz(cache_path(bank_key), (0, 0))
        if stored is not None:
            found = FeatureBank(*(torch.from_numpy(stored[k]) for k in _FIELDS), from_cache=True)
        else:
            found = compute(model, data if data is not None else dataset.load(data_dir))
            arrays = {k: getattr(found, k).numpy() for k in _FIELDS}
            cache.write_npz(cache_path(bank_key), (0, 0), compress=True, **arrays)
        _memory.put(bank_key, found)
        return found


_FIELDS = (
    "photos",
    "photo_labels",
    "drawings",
    "drawing_labels",
    "sketches",
    "sketch_labels",
    "test",
    "test_labels",
    "test_indices",
)


def compute(model: torch.nn.Module, data: FashionMNIST) -> FeatureBank:
    """Every feature of the bank, computed now (about 21,000 forward passes and 6,000 redrawn images)."""
    probe = penultimate.features(model, data.train_images[:1])
    photos_per_class, drawings_per_class, sketches_per_class, test_count = sizes(probe.shape[1])
    photos = balanced(data.train_labels, photos_per_class, SEED)
    redrawn = balanced(data.train_labels, drawings_per_class, SEED + 1, exclude=photos)
    drawings = drawn.as_drawings(data.train_images[redrawn], seed=SEED)
    kept = drawings.flatten(1).amax(1) > 0  # an image with nothing to outline is left out
    sketched = balanced(data.train_labels, sketches_per_class, SEED + 3, exclude=torch.cat([photos, redrawn]))
    sketches = drawn.as_sketches(data.train_images[sketched], seed=SEED + 1)
    outlined = sketches.flatten(1).amax(1) > 0
    if test_count >= len(data.test_labels):
        test = torch.arange(len(data.test_labels))
    else:
        test = balanced(data.test_labels, test_count // 10, SEED + 2)
    return FeatureBank(
        _half(penultimate.features(model, data.train_images[photos])),
        data.train_labels[photos].clone(),
        _half(penultimate.features(model, drawings[kept])),
        data.train_labels[redrawn][kept].clone(),
        _half(penultimate.features(model, sketches[outlined])),
        data.train_labels[sketched][outlined].clone(),
        _half(penultimate.features(model, data.test_images[test])),
        data.test_labels[test].clone(),
        test,
    )


def _half(x: torch.Tensor) -> torch.Tensor:
    limit = float(np.finfo(np.float16).max)
    return x.clamp(-limit, limit).half()
