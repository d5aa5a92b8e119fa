"""Evaluate a checkpoint on the 10,000 test images once: predictions, probabilities, per-class accuracy,
confusion matrix. A model taught extra classes is also evaluated on the examples of those classes it held out
(core.io.class_sources), after the test images. Results are cached in memory and on disk (`core.io.cache`:
beside a run's checkpoint, else in the user's cache folder), keyed by the checkpoint's path, modification time
and size.
"""

import csv
import hashlib
import io
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from core.analysis import inference, metrics
from core.data import dataset
from core.data.classes import CLASS_NAMES
from core.io import cache, checkpoint, class_sources

CACHE_SUFFIX = ".eval.npz"
_memory = cache.Memo(32)  # about 0.5 MB each
_lock = threading.Lock()  # one evaluation at a time: a second request for the same model waits for the first


@dataclass
class Evaluation:
    checkpoint: str
    labels: np.ndarray  # (N,) int64 true classes: the test images, then any held-out examples of taught classes
    probabilities: np.ndarray  # (N, classes) float32
    class_names: tuple[str, ...] = CLASS_NAMES
    held_out_images: np.ndarray | None = None  # uint8 (H, 28, 28): the last H rows' pictures

    @property
    def held_out_count(self) -> int:
        return 0 if self.held_out_images is None else len(self.held_out_images)

    @property
    def test_count(self) -> int:
        return len(self.labels) - self.held_out_count

    @property
    def held_out_accuracy(self) -> float | None:
        """The share of held-out examples of taught classes that get their class (None without any)."""
        if not self.held_out_count:
            return None
        rows = slice(self.test_count, None)
        return float((self.predictions[rows] == self.labels[rows]).mean())

    def image(self, index: int, data) -> np.ndarray:
        """The uint8 (28, 28) picture of row `index`: a test image of `data`, or a held-out example."""
        if index < self.test_count:
            return data.test_images[index].numpy()
        return self.held_out_images[index - self.test_count]

    @cached_property
    def predictions(self) -> np.ndarray:
        return self.probabilities.argmax(1)

    @cached_property
    def confidence(self) -> np.ndarray:
        return self.probabilities.max(1)

    @property
    def count(self) -> int:
        return len(self.labels)

    @property
    def accuracy(self) -> float:
        """Accuracy on the test images (held-out examples count in `held_out_accuracy`)."""
        rows = slice(0, self.test_count)
        return float((self.predictions[rows] == self.labels[rows]).mean()) if self.test_count else 0.0

    @cached_property
    def confusion_matrix(self) -> np.ndarray:
        """(classes, classes) counts over every row, rows = true class, columns = predicted class."""
        return metrics.confusion_matrix(self.labels, self.predictions, len(self.class_names))

    @cached_property
    def per_class_accuracy(self) -> np.ndarray:
        return metrics.per_class_accuracy(self.confusion_matrix)

    def pair(self, true: int, predicted: int, most_confident_first: bool = True) -> np.ndarray:
        """Rows (test-set indices, then held-out examples) of class `true` predicted as `predicted`, sorted by
        confidence."""
        idx = np.flatnonzero((self.labels == true) & (self.predictions == predicted))
        order = np.argsort(self.confidence[idx], kind="stable")
        return idx[order[::-1] if most_confident_first else order]

    def top_k(self, index: int, k: int = 3) -> list[tuple[str, float]]:
        """The k most probable classes of one test image, as (name, probability)."""
        p = self.probabilities[index]
        return [(self.class_names[c], float(p[c])) for c in np.argsort(-p, kind="stable")[:k]]


def evaluate(path, data: "dataset.FashionMNIST | None" = None, data_dir=None) -> Evaluation:
    """The evaluation of a checkpoint on the test set, computed at most once per checkpoint version."""
    path = Path(path).resolve()
    stat = path.stat() if path.is_file() else None
    if stat is None:
        checkpoint.read_metadata(path)  # raises a CheckpointError that names the problem
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    with _lock:
        result = _memory.get(key)
        if result is not None:
            return result
        data = data if data is not None else dataset.load(data_dir)
        meta = checkpoint.read_metadata(path)
        names = class_sources.names(meta)
        held_images, held_labels = class_sources.held_out(meta)
        labels = np.concatenate([data.test_labels.numpy().astype(np.int64), held_labels])
        extra = held_images if len(held_images) else None
        result = _read_cache(path, key, labels, names, extra)
        if result is None:
            loaded = checkpoint.load(path)
            images = torch.cat([data.test_images, torch.from_numpy(held_images)])
            probs = inference.probabilities(loaded.model, images).cpu().numpy().astype(np.float32)
            result = Evaluation(str(path), labels, probs, names, extra)
            cache.write_npz(
                cache_path(path), key[1:], probabilities=result.probabilities, labels_sha1=_fingerprint(labels)
            )
        _memory.put(key, result)
        return result


def cache_path(path: Path) -> Path:
    """Where a checkpoint's evaluation is stored on disk."""
    return cache.cache_file(path, CACHE_SUFFIX)


def _fingerprint(labels: np.ndarray) -> str:
    return hashlib.sha1(labels.astype(np.uint8).tobytes()).hexdigest()


def _read_cache(path: Path, key: tuple, labels: np.ndarray, names: tuple, extra) -> Evaluation | None:
    stored = cache.read_npz(cache_path(path), key[1:])
    if stored is None or str(stored.get("labels_sha1")) != _fingerprint(labels):
        return None
    probs = stored["probabilities"].astype(np.float32)
    if probs.shape != (len(labels), len(names)):
        return None
    return Evaluation(str(path), labels, probs, names, extra)


def write_predictions_csv(result: Evaluation, out) -> None:
    """All predictions, one row per image: index, true label, predicted label, confidence. The held-out examples
    of taught classes follow the test images (indices from 10,000)."""
    names = result.class_names
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["index", "true_label", "true_class", "predicted_label", "predicted_class", "confidence"])
    for i, (t, p, c) in enumerate(zip(result.labels.tolist(), result.predictions.tolist(), result.confidence.tolist())):
        writer.writerow([i, t, names[t], p, names[p], f"{c:.4f}"])


def predictions_csv(result: Evaluation) -> str:
    buffer = io.StringIO()
    write_predictions_csv(result, buffer)
    return buffer.getvalue()


def summary(result: Evaluation) -> dict:
    """JSON-ready numbers: test accuracy, per-class accuracy by class name, confusion matrix (a taught class's row
    and accuracy come from its held-out examples, also counted under "held_out")."""
    out = {
        "checkpoint": result.checkpoint,
        "count": result.test_count,
        "accuracy": round(result.accuracy, 6),
        "class_names": list(result.class_names),
        "per_class_accuracy": {
            name: round(float(a), 6) for name, a in zip(result.class_names, result.per_class_accuracy)
        },
        "confusion_matrix": result.confusion_matrix.tolist(),
    }
    if result.held_out_count:
        out["held_out"] = {"count": result.held_out_count, "accuracy": round(result.held_out_accuracy, 6)}
    return out
