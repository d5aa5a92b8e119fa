"""Data budgets: train on a subset of the classes, or on at most N images per class (seeded)."""

import torch

from core.base.errors import StudioError
from core.data.classes import CLASS_NAMES

SEED_OFFSET = 104_729  # the per-class draw is seeded apart from the split and the label noise


def class_numbers(names) -> list[int]:
    """Class names (or numbers) to sorted class numbers; an unknown name is a one-line error."""
    out = set()
    for name in names:
        if isinstance(name, int) and not isinstance(name, bool) and 0 <= name < len(CLASS_NAMES):
            out.add(name)
        elif isinstance(name, str) and name.strip() in CLASS_NAMES:
            out.add(CLASS_NAMES.index(name.strip()))
        else:
            raise StudioError(f"unknown class {name!r}; choose from: {', '.join(CLASS_NAMES)}.")
    return sorted(out)


def of_classes(labels: torch.Tensor, classes) -> torch.Tensor:
    """Sorted positions of the images whose label is one of `classes` (numbers)."""
    return torch.isin(labels, torch.tensor(list(classes), dtype=labels.dtype)).nonzero().flatten()


def at_most_per_class(labels: torch.Tensor, per_class: int, seed: int = 0) -> torch.Tensor:
    """Sorted positions of at most `per_class` images of each class, drawn at random (seeded); a class with
    fewer images keeps them all."""
    if not isinstance(per_class, int) or per_class < 1:
        raise StudioError(f"images per class must be a whole number >= 1, got {per_class!r}.")
    generator = torch.Generator().manual_seed(seed + SEED_OFFSET)
    kept = []
    for c in labels.unique(sorted=True).tolist():
        idx = (labels == c).nonzero().flatten()
        kept.append(idx[torch.randperm(len(idx), generator=generator)[:per_class]])
    if not kept:
        return torch.empty(0, dtype=torch.int64)
    return torch.cat(kept).sort().values
