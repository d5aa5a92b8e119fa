"""Out-of-fold predicted probabilities for every training image (k-fold cross-validation), and the suspect
labels ranked from them (`core.analysis.label_issues`).

The training images are split into k folds, stratified by class and seeded. For each fold a model is trained
with a recipe (the trainer itself, in a temporary runs folder) on the other k-1 folds and predicts the fold it
never saw, so every image gets probabilities from a model that did not learn its label.
"""

import tempfile
import time
from collections.abc import Callable

import numpy as np
import torch

from core.analysis import inference, label_issues
from core.base.errors import StudioError
from core.data.dataset import FashionMNIST
from core.io import checkpoint
from core.training.recipes import get_recipe
from core.training.trainer import Trainer

MAX_K = 10
Progress = Callable[[float, str], None]


def assign_folds(labels: torch.Tensor, k: int, seed: int = 0) -> np.ndarray:
    """(N,) int8 fold of each image: each class spread evenly over the k folds, in a seeded order."""
    if not isinstance(k, int) or not 2 <= k <= MAX_K:
        raise StudioError(f"k (the number of folds) must be a whole number in 2-{MAX_K}, got {k!r}.")
    generator = torch.Generator().manual_seed(seed)
    folds = torch.empty(len(labels), dtype=torch.int8)
    for c in labels.unique(sorted=True).tolist():
        idx = (labels == c).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=generator)]
        folds[idx] = (torch.arange(len(idx)) % k).to(torch.int8)
    return folds.numpy()


def probabilities(
    data: FashionMNIST,
    recipe: str = label_issues.DEFAULT_RECIPE,
    k: int = label_issues.DEFAULT_K,
    seed: int = 0,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """(out-of-fold probabilities (N, 10) float32, folds (N,) int8, seconds) for the training images."""
    config = get_recipe(recipe).config()
    config.limit = None
    config.experiment = None
    config.validate()
    report = progress or (lambda fraction, message: None)
    images, labels = data.train_images, data.train_labels
    folds = assign_folds(labels, k, seed)
    out = np.zeros((len(labels), 10), dtype=np.float32)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fmnist-oof-") as tmp:
        for fold in range(k):
            held = torch.from_numpy(np.flatnonzero(folds == fold))
            rest = torch.from_numpy(np.flatnonzero(folds != fold))
            fold_data = FashionMNIST(images[rest], labels[rest], images[held], labels[held], data.source)

            def on_event(event, fold=fold):
                if event["event"] == "batch":
                    done = (event["epoch"] - 1 + event["batch"] / event["batches"]) / config.epochs
                    report((fold + done) / k, f"fold {fold + 1} of {k}, epoch {event['epoch']}/{config.epochs}")

            result = Trainer(config, fold_data, runs_root=tmp, on_event=on_event, tensorboard=False).run()
            if result.status not in ("completed", "early_stopped"):
                raise StudioError(f"fold {fold + 1} of {k} did not finish: {result.message}.")
            model = checkpoint.load(result.checkpoint).model
            out[held.numpy()] = inference.probabilities(model, images[held]).cpu().numpy()
            report((fold + 1) / k, f"fold {fold + 1} of {k} done ({result.test_accuracy:.2%} on its held-out images)")
    return out, folds, time.perf_counter() - started


def suspects(
    data: FashionMNIST,
    recipe: str = label_issues.DEFAULT_RECIPE,
    k: int = label_issues.DEFAULT_K,
    progress: Progress | None = None,
    recompute: bool = False,
) -> label_issues.Suspects:
    """The ranked suspects for `recipe` and `k`: the stored result for this data, else computed (minutes) and
    kept in the user's cache folder."""
    if not recompute:
        found = label_issues.load(data, recipe, k)
        if found is not None:
            return found
    probs, folds, seconds = probabilities(data, recipe, k, progress=progress)
    if progress:
        progress(1.0, "ranking the labels with cleanlab")
    found = label_issues.build(
        recipe,
        k,
        data.train_labels.numpy(),
        probs,
        folds,
        seconds,
        label_issues.fingerprint(data.train_images, data.train_labels),
    )
    label_issues.save(found)
    return found
