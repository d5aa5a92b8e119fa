"""Which training images a run learns from, and with which labels: the data settings of a TrainConfig.

In this order, every step seeded by the run's seed:
1. `limit`: the first N images of the official training file;
2. `drop_suspects`: leave out the N images whose labels the shipped out-of-fold ranking doubts most
   (`core.analysis.label_issues`, the quick demo's 5-fold result);
3. `classes`: keep only the images of these classes. The model still has ten outputs (every page, export
   and checkpoint stays a ten-class one); the run's test accuracy counts the test images of these classes
   only, since the others were never taught;
4. the validation split (stratified; validation images keep their labels and are never budgeted);
5. `per_class`: at most N training images of each class (`core.data.budget`);
6. `label_noise`: that fraction of the training labels replaced by another class (`core.data.label_noise`),
   only ever within the chosen classes. Validation and test labels are never touched.
A run whose data differs from the full, clean training set records it in its folder: training_set.json
(counts) and training_set.npz (the indices trained on, their labels, the indices whose label was flipped
and what they were).
"""

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.analysis import label_issues
from core.base.errors import StudioError
from core.base.files import write_atomic
from core.data import budget, label_noise
from core.data.classes import CLASS_NAMES, NUM_CLASSES
from core.data.dataset import FashionMNIST, stratified_split
from core.io import runs

SUMMARY_FILE = "training_set.json"
ARRAYS_FILE = "training_set.npz"


@dataclass
class TrainingSet:
    train: torch.Tensor  # official indices of the images trained on
    train_labels: torch.Tensor  # the labels trained on (with noise, if any)
    val: torch.Tensor  # official indices of the validation images
    flipped: torch.Tensor  # official indices whose training label was replaced
    dropped: torch.Tensor  # official indices left out as suspect labels
    classes: list[int] | None  # the classes trained on; None = all ten
    noise_kind: str = "uniform"
    per_class: int | None = None

    @property
    def changed(self) -> bool:
        """Whether the run's data differs from the (first `limit`) clean training images."""
        return bool(len(self.flipped) or len(self.dropped) or self.classes is not None or self.per_class)

    def test_data(self, data: FashionMNIST) -> FashionMNIST:
        """`data` with its test split reduced to the chosen classes (the same object when all ten are chosen)."""
        if self.classes is None:
            return data
        keep = budget.of_classes(data.test_labels, self.classes)
        return FashionMNIST(
            data.train_images, data.train_labels, data.test_images[keep], data.test_labels[keep], data.source
        )

    def summary(self, given: torch.Tensor) -> dict:
        counts = torch.bincount(self.train_labels, minlength=NUM_CLASSES).tolist()
        return {
            "train_images": len(self.train),
            "validation_images": len(self.val),
            "trained_labels_per_class": {name: counts[c] for c, name in enumerate(CLASS_NAMES) if counts[c]},
            "classes": None if self.classes is None else [CLASS_NAMES[c] for c in self.classes],
            "per_class": self.per_class,
            "label_noise_kind": self.noise_kind,
            "flipped_labels": len(self.flipped),
            "flipped_fraction": round(len(self.flipped) / max(len(self.train), 1), 6),
            "suspects_left_out": len(self.dropped),
            "given_labels_of_flipped": torch.bincount(given[self.flipped], minlength=NUM_CLASSES).tolist(),
        }

    def record(self, run_dir: Path, given: torch.Tensor) -> None:
        """Write training_set.json and training_set.npz into the run folder (only when the data changed)."""
        if not self.changed:
            return
        runs.write_json(Path(run_dir) / SUMMARY_FILE, self.summary(given))
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            train=self.train.numpy().astype(np.int32),
            train_labels=self.train_labels.numpy().astype(np.uint8),
            flipped=self.flipped.numpy().astype(np.int32),
            flipped_given=given[self.flipped].numpy().astype(np.uint8),
            dropped=self.dropped.numpy().astype(np.int32),
        )
        write_atomic(Path(run_dir) / ARRAYS_FILE, buffer.getvalue())


def test_count(data: FashionMNIST, config) -> int:
    """How many test images a run of `config` is tested on: those of its classes (all of them by default)."""
    classes = getattr(config, "classes", None)
    if not classes:
        return len(data.test_labels)
    return len(budget.of_classes(data.test_labels, budget.class_numbers(classes)))


def choose(data: FashionMNIST, config) -> TrainingSet:
    """The training set of `config` (a validated TrainConfig) drawn from `data`'s training images."""
    labels = data.train_labels
    pool = torch.arange(config.limit or len(labels))
    dropped = torch.empty(0, dtype=torch.int64)
    if getattr(config, "drop_suspects", 0):
        worst = torch.from_numpy(label_issues.require(data).worst(config.drop_suspects).astype(np.int64))
        dropped = worst[worst < len(pool)].sort().values
        pool = pool[~torch.isin(pool, dropped)]
    classes = budget.class_numbers(config.classes) if getattr(config, "classes", None) else None
    if classes is not None:
        pool = pool[budget.of_classes(labels[pool], classes)]
    if len(pool) < 2:
        raise StudioError("no training images are left with these data settings: choose more classes or images.")
    train_pos, val_pos = stratified_split(labels[pool], config.val_fraction, config.seed)
    train, val = pool[train_pos], pool[val_pos]
    per_class = getattr(config, "per_class", None) or None
    if per_class:
        train = train[budget.at_most_per_class(labels[train], per_class, config.seed)]
    kind = getattr(config, "label_noise_kind", "uniform")
    noisy, flipped_pos = label_noise.flip_labels(
        labels[train], getattr(config, "label_noise", 0.0), kind, config.seed, classes=classes
    )
    return TrainingSet(train, noisy, val, train[flipped_pos], dropped, classes, kind, per_class)


def read_summary(run_dir) -> dict | None:
    """What a run recorded about its training set, or None for a run on the full, clean training images."""
    return runs.read_json(Path(run_dir) / SUMMARY_FILE)
