"""Classification metrics shared by training and evaluation: the confusion matrix and per-class accuracy."""

import numpy as np

from core.data.classes import NUM_CLASSES


def confusion_matrix(labels, predictions, classes: int = NUM_CLASSES) -> np.ndarray:
    """(classes, classes) int64 counts, rows = true class, columns = predicted class; numpy arrays or tensors."""
    labels = np.asarray(_numpy(labels), dtype=np.int64)
    predictions = np.asarray(_numpy(predictions), dtype=np.int64)
    flat = labels * classes + predictions
    return np.bincount(flat, minlength=classes**2).reshape(classes, classes)


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Recall of each class from a confusion matrix (0 for a class with no images)."""
    return np.diag(matrix) / np.maximum(matrix.sum(1), 1)


def _numpy(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else x
