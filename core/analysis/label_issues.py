"""Suspect labels: training images whose given label the out-of-fold predictions doubt, ranked with cleanlab.

Confident learning needs predicted probabilities from models that never trained on the image they score
(out of fold, `core.training.out_of_fold` makes them). From those, `cleanlab.rank.get_label_quality_scores`
gives each image a label quality in [0, 1] (the probability of its given label: low = suspect) and
`cleanlab.filter.find_label_issues` flags the images it estimates are mislabeled.

A result is stored per recipe and fold count, with a fingerprint of the training images and labels it was
computed from (a result for other data is never used): the default ships in checkpoints/data_lab/ so the
page is instant on a fresh install; others go to the user's cache folder (`core.io.cache`).
"""

import csv
import hashlib
import io
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from core.base.errors import StudioError
from core.data.classes import CLASS_NAMES, NUM_CLASSES
from core.io import cache

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "checkpoints" / "data_lab"
DEFAULT_RECIPE = "quick_demo"
DEFAULT_K = 5
CSV_COLUMNS = ("index", "given", "suggested", "quality")
_memory = cache.Memo(4)


@dataclass
class Suspects:
    recipe: str
    k: int
    labels: np.ndarray  # (N,) int64 given labels, official training order
    probabilities: np.ndarray  # (N, 10) float32 out-of-fold predicted probabilities
    folds: np.ndarray  # (N,) int8: the fold each image was held out in
    quality: np.ndarray  # (N,) float32 cleanlab label quality: low = suspect
    flagged: np.ndarray  # (N,) bool: cleanlab.filter.find_label_issues
    seconds: float  # how long the out-of-fold training took
    fingerprint: str  # of the training images and labels

    @cached_property
    def suggested(self) -> np.ndarray:
        """The likely label: the class the out-of-fold model found most probable."""
        return self.probabilities.argmax(1)

    @property
    def accuracy(self) -> float:
        """Out-of-fold accuracy: how often the held-out prediction equals the given label."""
        return float((self.suggested == self.labels).mean())

    @cached_property
    def order(self) -> np.ndarray:
        """Every training index, worst label quality first (ties in file order)."""
        return np.argsort(self.quality, kind="stable")

    def worst(self, n: int) -> np.ndarray:
        return self.order[:n]

    def select(self, given: int | None = None, suggested: int | None = None, flagged_only: bool = False) -> np.ndarray:
        """Training indices, worst first, with this given label and/or this likely label (None = any), and
        only those cleanlab flags when `flagged_only`."""
        order = self.order
        keep = np.ones(len(order), dtype=bool)
        if given is not None:
            keep &= self.labels[order] == given
        if suggested is not None:
            keep &= self.suggested[order] == suggested
        if flagged_only:
            keep &= self.flagged[order]
        return order[keep]


def rank(probabilities: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(label quality, flagged) for out-of-fold `probabilities` (N, C) and given `labels` (N,), by cleanlab."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    probabilities = np.asarray(probabilities, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    if probabilities.ndim != 2 or len(probabilities) != len(labels):
        raise StudioError(f"probabilities of shape {probabilities.shape} do not match {len(labels)} labels.")
    quality = get_label_quality_scores(labels, probabilities).astype(np.float32)
    flagged = find_label_issues(labels, probabilities, n_jobs=1)  # no worker processes inside a server
    return quality, flagged


def build(recipe: str, k: int, labels, probabilities, folds, seconds: float, fingerprint: str) -> Suspects:
    """Rank out-of-fold probabilities (rounded to float16 first, as they are stored, so a stored result and a
    fresh one agree)."""
    probabilities = np.asarray(probabilities, dtype=np.float16).astype(np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    quality, flagged = rank(probabilities, labels)
    return Suspects(
        recipe, k, labels, probabilities, np.asarray(folds, np.int8), quality, flagged, float(seconds), fingerprint
    )


def fingerprint(images, labels) -> str:
    """What identifies a training set: a digest of its images' and labels' bytes."""
    h = hashlib.sha1()
    h.update(np.ascontiguousarray(_numpy(images), dtype=np.uint8).tobytes())
    h.update(np.ascontiguousarray(_numpy(labels), dtype=np.uint8).tobytes())
    return h.hexdigest()


def file_name(recipe: str, k: int) -> str:
    return f"suspects-{recipe}-k{k}.npz"


def shipped_path(recipe: str = DEFAULT_RECIPE, k: int = DEFAULT_K) -> Path:
    return SHIPPED_DIR / file_name(recipe, k)


def cache_path(recipe: str, k: int) -> Path:
    return cache.cache_dir() / "data_lab" / file_name(recipe, k)


def save(suspects: Suspects, path: Path | None = None) -> Path:
    """Store a result (float16 probabilities, compressed); in the user's cache folder unless `path` is given."""
    path = Path(path or cache_path(suspects.recipe, suspects.k))
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        recipe=suspects.recipe,
        k=suspects.k,
        labels=suspects.labels.astype(np.uint8),
        probabilities=suspects.probabilities.astype(np.float16),
        folds=suspects.folds.astype(np.int8),
        quality=suspects.quality.astype(np.float32),
        flagged=np.packbits(suspects.flagged),
        seconds=suspects.seconds,
        fingerprint=suspects.fingerprint,
    )
    cache.write_bytes(path, buffer.getvalue())
    _memory.clear()
    return path


def read(path: Path, expected_fingerprint: str | None = None) -> Suspects | None:
    """A stored result, or None when the file is missing, unreadable or made from other data."""
    try:
        with np.load(path) as z:
            if expected_fingerprint is not None and str(z["fingerprint"]) != expected_fingerprint:
                return None
            labels = z["labels"].astype(np.int64)
            probabilities = z["probabilities"].astype(np.float32)
            if probabilities.shape != (len(labels), NUM_CLASSES):
                return None
            return Suspects(
                str(z["recipe"]),
                int(z["k"]),
                labels,
                probabilities,
                z["folds"],
                z["quality"].astype(np.float32),
                np.unpackbits(z["flagged"], count=len(labels)).astype(bool),
                float(z["seconds"]),
                str(z["fingerprint"]),
            )
    except (OSError, ValueError, KeyError):
        return None


def load(data, recipe: str = DEFAULT_RECIPE, k: int = DEFAULT_K) -> Suspects | None:
    """The stored result for this training set (the shipped file first, then the cache), or None."""
    tensors = (data.train_images, data.train_labels)
    key = (recipe, k, *map(id, tensors))
    remembered = _memory.get(key)
    if remembered is not None and all(a is b for a, b in zip(remembered[0], tensors)):  # the very same tensors
        return remembered[1]
    expected = fingerprint(*tensors)
    for path in (shipped_path(recipe, k), cache_path(recipe, k)):
        found = read(path, expected)
        if found is not None:
            _memory.put(key, (tensors, found))
            return found
    return None


def forget() -> None:
    """Drop the results kept in memory (after a new one is stored)."""
    _memory.clear()


def require(data, recipe: str = DEFAULT_RECIPE, k: int = DEFAULT_K) -> Suspects:
    """`load`, or a one-line StudioError that says how to compute the result."""
    found = load(data, recipe, k)
    if found is None:
        raise StudioError(
            f"no suspect-label ranking for recipe {recipe!r} with k={k} on this dataset yet; compute it with "
            f"`python -m core.labels --recipe {recipe} --k {k}` (or on the Data lab page)."
        )
    return found


def write_csv(suspects: Suspects, out) -> None:
    """Every training image, worst first: index (0-based, official order), given, suggested, quality."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    suggested = suspects.suggested
    for i in suspects.order.tolist():
        writer.writerow([i, CLASS_NAMES[suspects.labels[i]], CLASS_NAMES[suggested[i]], f"{suspects.quality[i]:.6f}"])


def to_csv(suspects: Suspects) -> str:
    buffer = io.StringIO()
    write_csv(suspects, buffer)
    return buffer.getvalue()


def _numpy(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
