"""Label noise for teaching: replace a seeded fraction of the training labels with another class.

Exactly `round(fraction * n)` labels change, chosen uniformly at random (seeded), and each gets a class
other than its own:
- "uniform": any other class;
- "confusable": another class of its look-alike group (T-shirt/top, Pullover, Coat, Shirt) or (Sandal,
  Sneaker, Ankle boot), as a tired human labeller would err. An image of a class in no group (Trouser,
  Dress, Bag) that the draw picks flips uniformly, so the noise level is the same fraction for both kinds.
When training on a subset of the classes, a label only ever flips to another class of that subset.
"""

import torch

from core.base.errors import StudioError
from core.data.classes import CLASS_NAMES, NUM_CLASSES

KINDS = ("uniform", "confusable")
CONFUSABLE_GROUPS = (
    tuple(CLASS_NAMES.index(n) for n in ("T-shirt/top", "Pullover", "Coat", "Shirt")),
    tuple(CLASS_NAMES.index(n) for n in ("Sandal", "Sneaker", "Ankle boot")),
)
SEED_OFFSET = 7_919  # the noise draw is seeded apart from the split and the batch order of the same seed


def flip_labels(
    labels: torch.Tensor, fraction: float, kind: str = "uniform", seed: int = 0, classes=None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(noisy copy of `labels`, sorted positions whose label changed). `classes`: the classes a label may
    become (default all ten); every label must be one of them."""
    if kind not in KINDS:
        raise StudioError(f"unknown label noise kind {kind!r}; choose one of: {', '.join(KINDS)}.")
    if not 0 <= fraction <= 1:
        raise StudioError(f"label noise must be a fraction in [0, 1], got {fraction!r}.")
    labels = labels.to(torch.int64)
    allowed = sorted(set(range(NUM_CLASSES) if classes is None else (int(c) for c in classes)))
    count = round(fraction * len(labels))
    if count == 0:
        return labels.clone(), torch.empty(0, dtype=torch.int64)
    if len(allowed) < 2:
        raise StudioError("label noise needs at least two classes to swap labels between.")
    generator = torch.Generator().manual_seed(seed + SEED_OFFSET)
    chosen = torch.randperm(len(labels), generator=generator)[:count].sort().values
    noisy = labels.clone()
    noisy[chosen] = _other_classes(labels[chosen], allowed, kind, generator)
    return noisy, chosen


def _other_classes(old: torch.Tensor, allowed: list[int], kind: str, generator: torch.Generator) -> torch.Tensor:
    """For each label in `old`, a different class drawn uniformly from its candidates."""
    new = torch.full_like(old, -1)
    groups = [[c for c in g if c in allowed] for g in CONFUSABLE_GROUPS] if kind == "confusable" else []
    for group in (g for g in groups if len(g) > 1):  # a look-alike group needs two of its classes chosen
        inside = torch.isin(old, torch.tensor(group))
        new[inside] = _shift_within(old[inside], group, generator)
    rest = new < 0
    new[rest] = _shift_within(old[rest], allowed, generator)
    return new


def _shift_within(old: torch.Tensor, candidates: list[int], generator: torch.Generator) -> torch.Tensor:
    """Move each label 1..m-1 places along `candidates` (cyclically): uniform over the other m-1 classes."""
    table = torch.tensor(candidates)
    position = torch.searchsorted(table, old)
    if len(old) and not torch.equal(table[position.clamp(max=len(table) - 1)], old):
        raise StudioError("a label outside the chosen classes cannot be flipped.")
    step = torch.randint(1, len(candidates), (len(old),), generator=generator)
    return table[(position + step) % len(candidates)]
