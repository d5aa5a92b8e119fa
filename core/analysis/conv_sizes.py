"""The arithmetic of one convolution on a square input: output size and the receptive field of one output cell.

Pure functions (no torch), so the Feature maps page's sizes explorer answers instantly; the test checks every
combination of the explorer's controls against `torch.nn.Conv2d`.
"""

from dataclasses import dataclass

import numpy as np

from core.base.errors import StudioError

INPUT = 28  # the side of a Fashion-MNIST image
KERNELS = tuple(range(1, 8))  # the explorer's controls: every combination of these is checked against torch
STRIDES = (1, 2, 3)
PADDINGS = (0, 1, 2, 3)
DILATIONS = (1, 2, 3)


@dataclass(frozen=True)
class Geometry:
    """One convolution on a `size`×`size` input."""

    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    size: int = INPUT

    @property
    def span(self) -> int:
        """How many input pixels one output cell's kernel spans along a side: dilation × (kernel - 1) + 1."""
        return self.dilation * (self.kernel - 1) + 1

    @property
    def output(self) -> int:
        """Output cells along a side: ⌊(size + 2·padding - span) / stride⌋ + 1 (what `nn.Conv2d` computes)."""
        return output_size(self.size, self.kernel, self.stride, self.padding, self.dilation)

    def taps(self, index: int) -> list[int]:
        """The input positions (along one side) that output cell `index` multiplies by its kernel, first to
        last; positions below 0 or from `size` on fall in the padding (zeros)."""
        if not 0 <= index < self.output:
            raise StudioError(f"cell {index} is outside the {self.output}×{self.output} output (0-{self.output - 1}).")
        start = index * self.stride - self.padding
        return [start + self.dilation * t for t in range(self.kernel)]

    def receptive_field(self, row: int, col: int) -> list[tuple[int, int]]:
        """The (row, column) input pixels output cell (row, col) reads, padding excluded."""
        inside = range(self.size)
        return [(r, c) for r in self.taps(row) if r in inside for c in self.taps(col) if c in inside]

    def describe(self) -> str:
        return (
            f"{self.size}×{self.size} input, {self.kernel}×{self.kernel} kernel, stride {self.stride}, padding "
            f"{self.padding}, dilation {self.dilation} → {self.output}×{self.output} output; each output cell "
            f"reads {self.kernel}×{self.kernel} pixels spread over {self.span}×{self.span}"
        )


def output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output cells along a side, or a one-line StudioError when the kernel does not fit."""
    for name, value, low in (("kernel", kernel, 1), ("stride", stride, 1), ("padding", padding, 0)):
        if int(value) != value or value < low:
            raise StudioError(f"{name} must be a whole number ≥ {low}, got {value!r}.")
    if int(dilation) != dilation or dilation < 1:
        raise StudioError(f"dilation must be a whole number ≥ 1, got {dilation!r}.")
    span = dilation * (kernel - 1) + 1
    padded = size + 2 * padding
    if span > padded:
        raise StudioError(
            f"a {kernel}×{kernel} kernel with dilation {dilation} spans {span} pixels, more than the "
            f"{padded}×{padded} padded input."
        )
    return (padded - span) // stride + 1


PAD_COLOUR = np.array([0.93, 0.89, 0.78])  # the zeros added around the image
TAP_COLOUR = np.array([0.95, 0.45, 0.1])  # the pixels the chosen cell multiplies by its kernel
SPAN_COLOUR = np.array([0.2, 0.45, 0.85])  # the square the kernel spans
GRID_COLOUR = np.array([0.7, 0.7, 0.7])


def input_picture(g: Geometry, row: int, col: int, image: np.ndarray | None = None, cell: int = 10) -> np.ndarray:
    """The padded input as a grid, uint8 RGB: the image (or plain gray) inside, padding in sand, the chosen
    output cell's kernel taps in orange and the square they span outlined in blue."""
    side = g.size + 2 * g.padding
    base = np.tile(PAD_COLOUR, (side, side, 1))
    inner = np.full((g.size, g.size), 0.82)
    if image is not None:
        image = np.asarray(image, np.float32)
        inner = 0.25 + 0.6 * image / max(float(image.max()), 1e-9)  # the picture, dimmed so the taps stand out
    base[g.padding : g.padding + g.size, g.padding : g.padding + g.size] = inner[..., None]
    rows, cols = [r + g.padding for r in g.taps(row)], [c + g.padding for c in g.taps(col)]
    for r in rows:
        for c in cols:
            base[r, c] = 0.25 * base[r, c] + 0.75 * TAP_COLOUR
    big = _cells(base, cell)
    top, left, bottom, right = rows[0] * cell, cols[0] * cell, (rows[-1] + 1) * cell, (cols[-1] + 1) * cell
    for width in range(2):
        big[top + width, left:right] = big[bottom - 1 - width, left:right] = SPAN_COLOUR
        big[top:bottom, left + width] = big[top:bottom, right - 1 - width] = SPAN_COLOUR
    return (np.clip(big, 0, 1) * 255 + 0.5).astype(np.uint8)


def output_picture(g: Geometry, row: int, col: int, cell: int = 10) -> np.ndarray:
    """The output map as a grid, uint8 RGB, with the chosen cell in orange."""
    base = np.full((g.output, g.output, 3), 0.85)
    g.taps(row), g.taps(col)  # a clear error for a cell outside the map
    base[row, col] = TAP_COLOUR
    return (np.clip(_cells(base, cell), 0, 1) * 255 + 0.5).astype(np.uint8)


def _cells(grid: np.ndarray, cell: int) -> np.ndarray:
    """Each grid square enlarged to `cell` pixels with a one-pixel line between squares."""
    big = grid.repeat(cell, axis=0).repeat(cell, axis=1)
    big[::cell, :] = GRID_COLOUR
    big[:, ::cell] = GRID_COLOUR
    return big
