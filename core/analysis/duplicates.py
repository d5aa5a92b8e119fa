"""Near-duplicate images within the training set, within the test set and across the split (leaks).

The distance of two images is the root-mean-square difference of their pixels (scaled to [0, 1]) at full
28x28 resolution: 0 for identical images. A typical test image's nearest training image is about 0.12 away;
below THRESHOLD (0.05) a pair is almost always one product pictured twice (plain trousers, which all look
alike, are the exception that also comes that close). All pairs are screened with matrix products on images
downscaled to 14x14 (block by block, so memory stays small), and the few candidates are measured exactly.

Results are stored like the suspect labels (`core.analysis.label_issues`): the default ships in
checkpoints/data_lab/, with a fingerprint of the images it was computed from.
"""

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from core.base.errors import StudioError
from core.io import cache

THRESHOLD = 0.05  # RMS pixel difference in [0, 1] units below which two images count as near-duplicates
SPLITS = ("train", "test")
CSV_COLUMNS = ("a_split", "a_index", "b_split", "b_index", "distance")
SHIPPED_PATH = Path(__file__).resolve().parents[2] / "checkpoints" / "data_lab" / "duplicates.npz"
BLOCK = 512  # rows of one distance block
_memory = cache.Memo(2)


@dataclass
class Pairs:
    """Near-duplicate pairs, closest first: a is train and b test across the split, a < b within a split."""

    a_split: np.ndarray  # (P,) 0 train, 1 test
    a_index: np.ndarray  # (P,) int64, 0-based in the official file order
    b_split: np.ndarray
    b_index: np.ndarray
    distance: np.ndarray  # (P,) float32 RMS pixel difference
    threshold: float
    fingerprint: str

    def __len__(self) -> int:
        return len(self.distance)

    def kind(self, a: str, b: str) -> np.ndarray:
        """Mask of the pairs between split `a` and split `b` (e.g. "train", "test")."""
        return (self.a_split == SPLITS.index(a)) & (self.b_split == SPLITS.index(b))

    def counts(self) -> dict[str, int]:
        return {
            "within train": int(self.kind("train", "train").sum()),
            "within test": int(self.kind("test", "test").sum()),
            "across the split": int(self.kind("train", "test").sum()),
        }

    def leaked_test_indices(self) -> np.ndarray:
        """Sorted test indices with a near-copy in the training set."""
        return np.unique(self.b_index[self.kind("train", "test")])

    def leaks(self) -> list[tuple[int, int, float]]:
        """(test index, its closest training near-copy, distance) for every leaked test image, closest first."""
        across = self.kind("train", "test")
        best: dict[int, tuple[int, float]] = {}
        for train, test, d in zip(self.a_index[across], self.b_index[across], self.distance[across]):
            if int(test) not in best or d < best[int(test)][1]:
                best[int(test)] = (int(train), float(d))
        return sorted(((t, tr, d) for t, (tr, d) in best.items()), key=lambda row: row[2])


def accuracy_without(predictions: np.ndarray, labels: np.ndarray, left_out: np.ndarray) -> float:
    """Accuracy over the test images not in `left_out` (e.g. those with a near-copy in training)."""
    keep = np.ones(len(labels), dtype=bool)
    keep[np.asarray(left_out, dtype=np.int64)] = False
    return float((np.asarray(predictions)[keep] == np.asarray(labels)[keep]).mean()) if keep.any() else 0.0


def _flat(images: torch.Tensor, size: int) -> torch.Tensor:
    x = images.float().div(255).unsqueeze(1)
    if size != x.shape[-1]:
        x = F.adaptive_avg_pool2d(x, size)
    return x.flatten(1)


def _candidates(a: torch.Tensor, b: torch.Tensor, radius: float, same: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Index pairs (i, j) of rows of `a` and `b` closer than `radius` in RMS difference (i < j when `a` and `b`
    are the same set). Both sets are sorted by their RMS brightness: two images closer than `radius` differ
    by less than `radius` in it, so each block of rows is compared only with the columns in that window."""
    size = a.shape[1]
    a_rms, b_rms = (a * a).mean(1).sqrt(), (b * b).mean(1).sqrt()
    a_order, b_order = a_rms.argsort(), b_rms.argsort()
    a, b, a_rms, b_rms = a[a_order], b[b_order], a_rms[a_order], b_rms[b_order]
    b_norms = (b * b).sum(1)
    limit = radius**2 * size
    rows, cols = [], []
    for start in range(0, len(a), BLOCK):
        block = a[start : start + BLOCK]
        lo = int(torch.searchsorted(b_rms, a_rms[start] - radius))
        hi = int(torch.searchsorted(b_rms, a_rms[start + len(block) - 1] + radius, right=True))
        if same:
            lo = max(lo, start)
        if hi <= lo:
            continue
        d2 = (block * block).sum(1, keepdim=True) + b_norms[lo:hi] - 2 * block @ b[lo:hi].T
        if same:  # each pair once: the column's sorted position after the row's
            d2[torch.arange(start, start + len(block)).unsqueeze(1) >= torch.arange(lo, hi)] = torch.inf
        i, j = (d2 < limit).nonzero(as_tuple=True)
        rows.append(a_order[i + start])
        cols.append(b_order[j + lo])
    if not rows:
        return torch.empty(0, dtype=torch.int64), torch.empty(0, dtype=torch.int64)
    rows, cols = torch.cat(rows), torch.cat(cols)
    if same:
        rows, cols = torch.minimum(rows, cols), torch.maximum(rows, cols)
    return rows, cols


def find_pairs(
    train: torch.Tensor, test: torch.Tensor, threshold: float = THRESHOLD, progress: Callable | None = None
) -> Pairs:
    """Every near-duplicate pair of uint8 images (N, 28, 28) within and across the two sets."""
    if not 0 < threshold < 1:
        raise StudioError(f"the duplicate threshold must be in (0, 1), got {threshold!r}.")
    small = {"train": _flat(train, 14), "test": _flat(test, 14)}
    full = {"train": _flat(train, 28), "test": _flat(test, 28)}
    radius = threshold * 1.05 + 1e-3  # averaging 2x2 blocks never increases the RMS difference; margin for rounding
    out = {k: [] for k in ("a_split", "a_index", "b_split", "b_index", "distance")}
    for step, (a, b) in enumerate((("train", "train"), ("test", "test"), ("train", "test"))):
        if progress:
            progress(step / 3, f"comparing {a} with {b}")
        i, j = _candidates(small[a], small[b], radius, same=a == b)
        d = ((full[a][i] - full[b][j]) ** 2).mean(1).sqrt()
        keep = d < threshold
        out["a_split"].append(np.full(int(keep.sum()), SPLITS.index(a), np.int8))
        out["b_split"].append(np.full(int(keep.sum()), SPLITS.index(b), np.int8))
        out["a_index"].append(i[keep].numpy())
        out["b_index"].append(j[keep].numpy())
        out["distance"].append(d[keep].numpy().astype(np.float32))
    arrays = {k: np.concatenate(v) for k, v in out.items()}
    order = np.lexsort((arrays["b_index"], arrays["a_index"], arrays["distance"]))
    return Pairs(
        **{k: v[order] for k, v in arrays.items()}, threshold=float(threshold), fingerprint=fingerprint(train, test)
    )


def fingerprint(train: torch.Tensor, test: torch.Tensor) -> str:
    h = hashlib.sha1()
    for images in (train, test):
        h.update(images.to(torch.uint8).contiguous().numpy().tobytes())
    return h.hexdigest()


def cache_path() -> Path:
    return cache.cache_dir() / "data_lab" / SHIPPED_PATH.name


def save(pairs: Pairs, path: Path | None = None) -> Path:
    path = Path(path or cache_path())
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        a_split=pairs.a_split,
        a_index=pairs.a_index.astype(np.int32),
        b_split=pairs.b_split,
        b_index=pairs.b_index.astype(np.int32),
        distance=pairs.distance,
        threshold=pairs.threshold,
        fingerprint=pairs.fingerprint,
    )
    cache.write_bytes(path, buffer.getvalue())
    _memory.clear()
    return path


def read(path: Path, expected_fingerprint: str | None = None) -> Pairs | None:
    try:
        with np.load(path) as z:
            if expected_fingerprint is not None and str(z["fingerprint"]) != expected_fingerprint:
                return None
            return Pairs(
                z["a_split"],
                z["a_index"].astype(np.int64),
                z["b_split"],
                z["b_index"].astype(np.int64),
                z["distance"].astype(np.float32),
                float(z["threshold"]),
                str(z["fingerprint"]),
            )
    except (OSError, ValueError, KeyError):
        return None


def load(data) -> Pairs | None:
    """The stored pairs for this dataset (the shipped file first, then the cache), or None."""
    tensors = (data.train_images, data.test_images)
    key = tuple(map(id, tensors))
    remembered = _memory.get(key)
    if remembered is not None and all(a is b for a, b in zip(remembered[0], tensors)):  # the very same tensors
        return remembered[1]
    expected = fingerprint(*tensors)
    for path in (SHIPPED_PATH, cache_path()):
        found = read(path, expected)
        if found is not None:
            _memory.put(key, (tensors, found))
            return found
    return None


def forget() -> None:
    """Drop the pairs kept in memory."""
    _memory.clear()


def compute(data, progress: Callable | None = None, recompute: bool = False) -> Pairs:
    """The stored pairs for this dataset, else found now (about a minute on two cores) and cached."""
    if not recompute:
        found = load(data)
        if found is not None:
            return found
    found = find_pairs(data.train_images, data.test_images, progress=progress)
    save(found)
    return found


def write_csv(pairs: Pairs, out) -> None:
    """One row per pair, closest first: a_split, a_index, b_split, b_index, distance."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for a_split, a, b_split, b, d in zip(pairs.a_split, pairs.a_index, pairs.b_split, pairs.b_index, pairs.distance):
        writer.writerow([SPLITS[a_split], int(a), SPLITS[b_split], int(b), f"{d:.4f}"])


def to_csv(pairs: Pairs) -> str:
    buffer = io.StringIO()
    write_csv(pairs, buffer)
    return buffer.getvalue()
