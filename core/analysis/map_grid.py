"""Where a layer's map cells sit on the 28x28 input, and a coarse map spread back over the input's pixels.

Grad-CAM's maps and the channel maps tinting the top test images are a few cells wide; `layer_grid` says
which input pixel each cell is centred on, and `upsample` lays the map over the pixels by linear
interpolation between those centres, fading to zero one cell step beyond the outermost ones (each cell
spreads as a tent of half-width one step), so the outermost cells are not smeared over the image's border.
"""

import numpy as np
from torch import nn

from core.models import network_of


def layer_grid(model: nn.Module, layer: str) -> tuple[float, float]:
    """(offset, step): output cell j of `layer` (a module or block) is centred on input pixel offset + step * j.

    Follows the convolutions and poolings up to `layer` in forward order (shortcuts run parallel to the
    main path and are skipped), so a map upsampled with it lines up with the input pixels it looks at.
    """
    offset, step = 0.0, 1.0
    entered = False
    for name, m in network_of(model).named_modules():
        inside = name == layer or name.startswith(layer + ".")
        if entered and not inside:
            break
        entered = entered or inside
        if ".shortcut" in name or not isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            continue
        k, s, p = (_first(getattr(m, a)) for a in ("kernel_size", "stride", "padding"))
        offset += step * (-p + (k - 1) / 2)
        step *= s
    return offset, step


def _first(v) -> int:
    return int(v[0] if isinstance(v, (tuple, list)) else v)


def upsample(cells: np.ndarray, offset: float, step: float, size: int = 28) -> np.ndarray:
    """(h, w) map -> (size, size): linear interpolation between cell centres (cell j at offset + step * j),
    falling linearly to zero over one step past the outermost centres and zero beyond."""

    def weights(n):
        t = (np.arange(size) - offset) / step  # each pixel's position in cell units
        tent = 1 - np.abs(t[:, None] - np.arange(n)[None, :])
        return np.clip(tent, 0, None)

    h, w = cells.shape
    return (weights(h) @ cells.astype(np.float64) @ weights(w).T).astype(np.float32)
