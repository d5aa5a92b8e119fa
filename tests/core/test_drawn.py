"""Fashion-MNIST photos redrawn as a student draws them (core.io.drawn): outlines, and sketches with inner edges."""

import torch

from core.io import drawn


def test_sketches_add_the_inner_edges_to_the_same_outlines(fmnist):
    """Coats and shirts, whose sleeves lie against the body: with the same random pens and warps, the sketch draws
    every inner edge on top of the outline, so it has more ink in most pictures and keeps the outline."""
    chosen = torch.nonzero((fmnist.train_labels == 4) | (fmnist.train_labels == 6)).flatten()[:200]
    images = fmnist.train_images[chosen]
    outline = drawn.as_drawings(images, seed=3, inner=(0.0, drawn.SKETCH_INNER[1]))
    sketch = drawn.as_drawings(images, seed=3, inner=drawn.SKETCH_INNER)
    assert outline.shape == sketch.shape == (200, 28, 28) and sketch.dtype == torch.uint8
    ink_outline, ink_sketch = (x.flatten(1).float().sum(1) for x in (outline, sketch))
    assert (ink_sketch > ink_outline * 1.05).float().mean() >= 0.8
    kept = (sketch.float() >= outline.float() - 1).flatten(1).float().mean(1)
    # The outline's pixels stay in nearly every picture (a one-pixel shift moves both alike; a thinning pen may
    # spare the one and not the other).
    assert (kept >= 0.97).float().mean() >= 0.9
    assert torch.equal(drawn.as_sketches(images, seed=3), sketch)


def test_drawings_keep_a_share_of_inner_edges_and_sketches_all(fmnist):
    """The ordinary redrawing draws inner edges in some pictures only; the sketches in every one."""
    images = fmnist.train_images[:300]
    plain = drawn.as_drawings(images, seed=0, inner=(0.0, drawn.DRAWING_INNER[1]))
    ordinary = drawn.as_drawings(images, seed=0)
    sketch = drawn.as_drawings(images, seed=0, inner=(1.0, drawn.DRAWING_INNER[1]))

    def with_edges(x):
        """The share of pictures with more ink than their plain outline (one full pixel or more)."""
        return ((x.flatten(1).float().sum(1) - plain.flatten(1).float().sum(1)) > 255).float().mean()

    assert 0.15 <= with_edges(ordinary) <= 0.5
    assert with_edges(sketch) > with_edges(ordinary) + 0.2
