"""A heatmap in words, for those who cannot see its colours: where on the picture the evidence for a class is
strongest and, for a signed map, where the evidence against it is."""

import numpy as np

ROWS = ("top", "middle", "bottom")
COLUMNS = ("left", "centre", "right")


def _region(mass: np.ndarray) -> str:
    """The ninth of the picture (3x3 grid) holding most of `mass` (a non-negative map)."""
    h, w = mass.shape
    rows, cols = np.array_split(np.arange(h), 3), np.array_split(np.arange(w), 3)
    sums = np.array([[mass[np.ix_(r, c)].sum() for c in cols] for r in rows])
    row, col = np.unravel_index(int(sums.argmax()), sums.shape)
    return "centre" if (row, col) == (1, 1) else f"{ROWS[row]} {COLUMNS[col]}"


def describe(heatmap: np.ndarray, signed: bool) -> str:
    """'evidence for the class strongest in the top centre, against it in the bottom left' (or only one of the
    two, or 'no evidence either way'). Positive values are evidence for the class, negative ones (in a signed map)
    evidence against it."""
    heatmap = np.asarray(heatmap, dtype=np.float64)
    positive = np.clip(heatmap, 0, None)
    negative = np.clip(-heatmap, 0, None) if signed else np.zeros_like(heatmap)
    where_for = _region(positive) if positive.sum() > 0 else None
    where_against = _region(negative) if negative.sum() > 0 else None
    if where_for and where_against:
        return f"evidence for the class strongest in the {where_for}, against it in the {where_against}"
    if where_for:
        return f"evidence for the class strongest in the {where_for}"
    if where_against:
        return f"evidence against the class strongest in the {where_against}"
    return "no evidence either way"
