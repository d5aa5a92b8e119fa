"""Evaluate a checkpoint on the 10,000 test images once: predictions, probabilities, per-class accuracy,
confusion matrix. Results are cached in memory and on disk (`core.io.cache`: beside a run's checkpoint,
else in the user's cache folder), keyed by the checkpoint's path, modification time and size.
"""

import csv
import hashlib
import io
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.analysis import inference, metrics
from core.data import dataset
from core.data.classes import CLASS_NAMES, NUM_CLASSES
from core.io import cache, checkpoint

CACHE_SUFFIX = ".eval.npz"
_memory = cache.Memo(32)  # about 0.5 MB each
_lock = threading.Lock()  # one evaluation at a time: a second request for the same model waits for the first


@dataclass
class Evaluation:
    checkpoint: str
    labels: np.ndarray  # (N,) int64 true classes
    probabilities: np.ndarray  # (N, 10) float32

    @property
    def predictions(self) -> np.ndarray:
        return self.probabilities.argmax(1)

    @property
    def confidence(self) -> np.ndarray:
        return self.probabilities.max(1)

    @property
    def count(self) -> int:
        return len(self.labels)

    @property
    def accuracy(self) -> float:
        return float((self.predictions == self.labels).mean()) if self.count else 0.0

    @property
    def confusion_matrix(self) -> np.ndarray:
        """(10, 10) counts, rows = true class, columns = predicted class."""
        return metrics.confusion_matrix(self.labels, self.predictions)

    @property
    def per_class_accuracy(self) -> np.ndarray:
        return metrics.per_class_accuracy(self.confusion_matrix)

    def pair(self, true: int, predicted: int, most_confident_first: bool = True) -> np.ndarray:
        """Test-set indices of images of class `true` predicted as `predicted`, sorted by confidence."""
        idx = np.flatnonzero((self.labels == true) & (self.predictions == predicted))
        order = np.argsort(self.confidence[idx], kind="stable")
        return idx[order[::-1] if most_confident_first else order]

    def top_k(self, index: int, k: int = 3) -> list[tuple[str, float]]:
        """The k most probable classes of one test image, as (name, probability)."""
        p = self.probabilities[index]
        return [(CLASS_NAMES[c], float(p[c])) for c in np.argsort(-p, kind="stable")[:k]]


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
        labels = data.test_labels.numpy().astype(np.int64)
        result = _read_cache(path, key, labels)
        if result is None:
            loaded = checkpoint.load(path)
            probs = inference.probabilities(loaded.model, data.test_images).cpu().numpy().astype(np.float32)
            result = Evaluation(str(path), labels, probs)
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


def _read_cache(path: Path, key: tuple, labels: np.ndarray) -> Evaluation | None:
    stored = cache.read_npz(cache_path(path), key[1:])
    if stored is None or str(stored.get("labels_sha1")) != _fingerprint(labels):
        return None
    probs = stored["probabilities"].astype(np.float32)
    if probs.shape != (len(labels), NUM_CLASSES):
        return None
    return Evaluation(str(path), labels, probs)


def write_predictions_csv(result: Evaluation, out) -> None:
    """All test-set predictions, one row per image: index, true label, predicted label, confidence."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["index", "true_label", "true_class", "predicted_label", "predicted_class", "confidence"])
    for i, (t, p, c) in enumerate(zip(result.labels.tolist(), result.predictions.tolist(), result.confidence.tolist())):
        writer.writerow([i, t, CLASS_NAMES[t], p, CLASS_NAMES[p], f"{c:.4f}"])


def predictions_csv(result: Evaluation) -> str:
    buffer = io.StringIO()
    write_predictions_csv(result, buffer)
    return buffer.getvalue()


def summary(result: Evaluation) -> dict:
    """JSON-ready numbers: accuracy, per-class accuracy by class name, confusion matrix."""
    return {
        "checkpoint": result.checkpoint,
        "count": result.count,
        "accuracy": round(result.accuracy, 6),
        "per_class_accuracy": {name: round(float(a), 6) for name, a in zip(CLASS_NAMES, result.per_class_accuracy)},
        "confusion_matrix": result.confusion_matrix.tolist(),
    }
