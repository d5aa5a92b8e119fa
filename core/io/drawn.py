"""Pictures in the style of a drawing, for teaching a model a new class from a student's sketches.

Two things are made here, both finished by the very preprocessing every drawing gets (core.io.preprocess:
levels, crop to the object, pad to a square, 28x28), so they look like what a model receives from the canvas:

- `augment`: more versions of a student's prepared examples: small rotations, stretches and shears, a
  thicker or thinner pen (dilation or erosion), a one-pixel shift;
- `as_drawings`: Fashion-MNIST photos redrawn as a student would draw them: the outline of the object's
  silhouette (sometimes with its inner edges) in a pen of random width. Taught beside the new class, they
  keep "a drawing" from meaning "the new class";
- `as_sketches`: the same redrawing with every inner edge a student draws (a sleeve against the body, a coat's
  front, a sole), from fainter brightness jumps: a student's drawing of one of the ten is a set of outlines like
  these, not a silhouette, so these teach the new class what a drawn shirt or sandal looks like.

Both go through one style step (`_style`): the same warps, pen changes and shifts, so that the only thing
that tells a student's examples from the redrawn classes is their shape. The shape work is batched in torch at
twice the final resolution (56x56).
"""

import numpy as np
import torch
import torch.nn.functional as F

from core.base.errors import ImageError
from core.data.classes import IMAGE_SIZE
from core.io import preprocess

SCALE = 2
WORK = IMAGE_SIZE * SCALE  # 56: outlines and pen widths are drawn at this resolution
# Outline pens at WORK resolution: 1.5 to 3.5 pixels of the 28, as a canvas pen of 18 px on an object
# 140 to 280 px wide gives.
OUTLINE_PENS = (3, 3, 5, 7)
# Pen changes of the style step: negative thins the strokes (erosion), positive thickens them (dilation).
PEN_CHANGES = (-3, 1, 1, 3)
WOBBLE = (0.3, 1.5)  # pixels of the 56 a stroke strays from its line
SMOOTHING = (0.0, 1.0, 2.0, 3.0)  # widths (pixels of the 56) of the blur that turns a silhouette into a drawn shape
# Inner edges: the share of redrawings that get them, and the brightness jump (within one pixel of the 28) that
# makes one, drawn at random in this range for each picture.
DRAWING_INNER = 0.4, (0.3, 0.5)
SKETCH_INNER = 1.0, (0.15, 0.35)


def _up(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float (N, 1, 56, 56) in [0, 1], bilinear."""
    x = images.float().div(255.0).unsqueeze(1)
    return F.interpolate(x, size=(WORK, WORK), mode="bilinear", align_corners=False).clamp(0, 1)


def _dilate(x: torch.Tensor, size: int) -> torch.Tensor:
    """Grey dilation by a size x size square, as two one-dimensional passes."""
    if size <= 1:
        return x
    x = F.max_pool2d(x, (size, 1), stride=1, padding=(size // 2, 0))
    return F.max_pool2d(x, (1, size), stride=1, padding=(0, size // 2))


def _erode(x: torch.Tensor, size: int) -> torch.Tensor:
    return -_dilate(-x, size)


def _pen(x: torch.Tensor, changes: np.ndarray) -> torch.Tensor:
    """Each image's strokes thickened or thinned by its change (see PEN_CHANGES); a thinning that would erase
    more than half of a drawing's ink is left out."""
    out = x.clone()
    for change in np.unique(changes):
        chosen = torch.from_numpy(np.flatnonzero(changes == change))
        part = x[chosen]
        if change > 1:
            out[chosen] = _dilate(part, int(change))
        elif change < 0:
            thinner = _erode(part, int(-change))
            kept = thinner.flatten(1).sum(1) > 0.5 * part.flatten(1).sum(1)
            out[chosen] = torch.where(kept[:, None, None, None], thinner, part)
    return out


def _warp(x: torch.Tensor, rng: np.random.Generator, rotate: float, stretch: float, shear: float) -> torch.Tensor:
    """A random rotation (degrees), stretch along each axis and shear of every image, about its centre."""
    n = len(x)
    angle = np.radians(rng.uniform(-rotate, rotate, n))
    sx, sy = rng.uniform(1 - stretch, 1 + stretch, (2, n))
    k = rng.uniform(-shear, shear, n)
    cos, sin = np.cos(angle), np.sin(angle)
    # affine_grid maps output to input coordinates: the inverse of "rotate, then stretch and shear".
    theta = np.zeros((n, 2, 3), np.float32)
    theta[:, 0, 0], theta[:, 0, 1] = cos / sx, (sin + k) / sx
    theta[:, 1, 0], theta[:, 1, 1] = -sin / sy, cos / sy
    grid = F.affine_grid(torch.from_numpy(theta), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _solid(x: torch.Tensor) -> torch.Tensor:
    """Strokes made solid again after resampling blurred them (a steep ramp around 40% brightness), so that the
    final shrink to 28x28 smooths their edges as it smooths a real drawing's."""
    peak = x.flatten(1).amax(1).clamp_min(1e-3)[:, None, None, None]
    return ((x / peak - 0.3) / 0.2).clamp(0, 1)


def _finish(x: torch.Tensor, rng: np.random.Generator, shift: float) -> torch.Tensor:
    """Light-on-black (N, 1, 56, 56) pictures through the drawing preprocessing to uint8 (N, 28, 28); a blank
    one becomes all zeros. That share (`shift`) of them then moves one pixel in a random direction."""
    out = torch.zeros(len(x), IMAGE_SIZE, IMAGE_SIZE, dtype=torch.uint8)
    gray = x[:, 0].numpy()
    ones = np.ones_like(gray[0])
    for i, g in enumerate(gray):
        try:
            out[i] = preprocess.from_rgba(np.dstack([g, g, g, ones])).tensor
        except ImageError:
            continue
    for i in np.flatnonzero(rng.random(len(out)) < shift):
        dy, dx = rng.integers(-1, 2, 2)
        out[i] = torch.roll(out[i], (int(dy), int(dx)), (0, 1))
    return out


def _wobble(x: torch.Tensor, rng: np.random.Generator, pixels: tuple[float, float]) -> torch.Tensor:
    """A hand's wobble: every image bent by a smooth random displacement (a 4x4 grid of random shifts, of up to
    `pixels` of the 56, interpolated over the picture)."""
    n = len(x)
    amplitude = rng.uniform(*pixels, n).astype(np.float32)[:, None, None, None] * 2 / WORK
    coarse = torch.from_numpy(rng.normal(0, 1, (n, 2, 4, 4)).astype(np.float32)) * torch.from_numpy(amplitude)
    shift = F.interpolate(coarse, size=(WORK, WORK), mode="bicubic", align_corners=True).permute(0, 2, 3, 1)
    identity = torch.eye(2, 3).expand(n, 2, 3)
    grid = F.affine_grid(identity, list(x.shape), align_corners=False) + shift
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _blur(x: torch.Tensor, sigmas: np.ndarray) -> torch.Tensor:
    """Each image blurred by a Gaussian of its own width (in pixels of the 56; 0 leaves it), batched by width."""
    out = x.clone()
    for sigma in np.unique(sigmas):
        if sigma <= 0:
            continue
        chosen = torch.from_numpy(np.flatnonzero(sigmas == sigma))
        radius = int(np.ceil(3 * sigma))
        t = torch.arange(-radius, radius + 1, dtype=torch.float32)
        kernel = torch.exp(-(t**2) / (2 * float(sigma) ** 2))
        kernel = kernel / kernel.sum()
        part = F.conv2d(x[chosen], kernel.view(1, 1, -1, 1), padding=(radius, 0))
        out[chosen] = F.conv2d(part, kernel.view(1, 1, 1, -1), padding=(0, radius))
    return out


def _style(strokes: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """The one style step for strokes (N, 1, 56, 56): a small rotation (up to 12 degrees), stretch and shear, a
    hand's wobble, another pen, solid strokes, the drawing preprocessing, a one-pixel shift for some."""
    x = _warp(strokes, rng, rotate=12, stretch=0.15, shear=0.15)
    x = _wobble(x, rng, WOBBLE)
    x = _pen(x, rng.choice(PEN_CHANGES, len(x)))
    return _finish(_solid(x), rng, shift=0.3)


def augment(images: torch.Tensor, copies: int, seed: int = 0) -> torch.Tensor:
    """`copies` varied versions of each prepared 28x28 example (uint8 (N, 28, 28) -> (N * copies, 28, 28)),
    grouped by example: rows [i * copies, (i + 1) * copies) come from example i. The first copy of each is the
    example itself."""
    rng = np.random.default_rng(seed)
    if len(images) == 0 or copies < 1:
        return torch.zeros(0, IMAGE_SIZE, IMAGE_SIZE, dtype=torch.uint8)
    out = _style(_up(images).repeat_interleave(copies, 0), rng)
    out[::copies] = images  # the example as it was drawn
    return out


def as_drawings(images: torch.Tensor, seed: int = 0, inner: tuple = DRAWING_INNER) -> torch.Tensor:
    """Fashion-MNIST images (uint8 (N, 28, 28)) redrawn as a student would: the outline of each object's
    silhouette, in some of them its inner edges too (`inner`: their share and brightness jumps), in a pen of random
    width, then the style step. Returns uint8 (N, 28, 28); an image with nothing to outline comes back all zeros."""
    share, (jump_low, jump_high) = inner
    rng = np.random.default_rng(seed)
    if len(images) == 0:
        return torch.zeros(0, IMAGE_SIZE, IMAGE_SIZE, dtype=torch.uint8)
    x = _up(images)
    peak = x.flatten(1).amax(1).clamp_min(1e-3)[:, None, None, None]
    levels = torch.from_numpy(rng.uniform(0.08, 0.3, len(x)).astype(np.float32))[:, None, None, None]
    solid = (x > levels * peak).float()
    # A hand draws the shape, not the photo's ragged edge: the silhouette smoothed (blurred and cut at half).
    solid = (_blur(solid, rng.choice(SMOOTHING, len(x))) > 0.5).float()
    outline = solid - _erode(solid, 3)
    # Inner edges (a sole, a collar, a zip) where the brightness jumps enough within one pixel of the 28, in a
    # share of them (DRAWING_INNER: a third of the range or more, in 40%).
    dy, dx = torch.gradient(x[:, 0], dim=(1, 2))
    jump = torch.sqrt(dy**2 + dx**2) * SCALE
    edges = jump > torch.from_numpy(rng.uniform(jump_low, jump_high, len(x)).astype(np.float32))[:, None, None]
    chosen = torch.from_numpy(rng.random(len(x)) < share)[:, None, None]
    lines = torch.maximum(outline[:, 0], (edges & chosen & (_erode(solid, 5)[:, 0] > 0)).float())[:, None]
    pens = rng.choice(OUTLINE_PENS, len(x))
    return _style(_pen(lines, pens), rng)


def as_sketches(images: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Fashion-MNIST images redrawn as outline sketches: `as_drawings` with every picture's inner edges, from
    fainter jumps (SKETCH_INNER), as a student outlines a sleeve against the body or a coat's front."""
    return as_drawings(images, seed, SKETCH_INNER)
