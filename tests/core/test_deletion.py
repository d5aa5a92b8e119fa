"""The deletion curve: a map that knows where the evidence is makes the class probability fall sooner than a
random order does, one that ranks the wrong pixels first changes nothing, and on the shipped simple CNN every
method beats random on average."""

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from core.analysis import deletion, explanations
from core.data.classes import MEAN, STD
from core.io import checkpoint

PATCH = (slice(8, 20), slice(8, 20))


class PatchCounter(nn.Module):
    """Class 0's logit grows with the brightness inside PATCH; nothing outside it counts."""

    def __init__(self):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(()))

    def forward(self, x):
        pixels = x * STD + MEAN
        score = 12 * self.gain * pixels[:, 0, PATCH[0], PATCH[1]].mean((1, 2))
        return torch.stack([score] + [torch.full_like(score, 4.0)] * 9, dim=1)


def test_the_right_map_falls_and_the_wrong_one_stays():
    model = PatchCounter().eval()
    image = np.ones((28, 28), np.float32)
    inside = np.zeros((28, 28), np.float32)
    inside[PATCH] = 1.0
    right = deletion.curve(model, image, inside, 0)
    wrong = deletion.curve(model, image, 1 - inside, 0)
    assert right.fractions.tolist() == pytest.approx([0.05 * i for i in range(11)])
    start = right.probabilities[0]
    assert start == wrong.probabilities[0] == pytest.approx(right.random[0]) and start > 0.99
    assert right.probabilities[4] < 0.01  # 20 % = 157 pixels: the whole 144-pixel patch is black
    assert np.allclose(wrong.probabilities, start)  # half the pixels, all outside the patch: nothing changes
    assert right.area < right.random_area < wrong.area
    assert np.all(np.diff(right.random) <= 1e-6)  # blacking out more never helps here


def test_ties_are_broken_in_a_fixed_random_order():
    flat = np.zeros((28, 28))
    order = deletion.ranking(flat)
    assert sorted(order.tolist()) == list(range(784)) and order[:5].tolist() != [0, 1, 2, 3, 4]
    assert np.array_equal(order, deletion.ranking(flat))
    heat = np.zeros((28, 28))
    heat[3, 4], heat[10, 10] = 2.0, 1.0
    assert deletion.ranking(heat)[:2].tolist() == [3 * 28 + 4, 10 * 28 + 10]


def test_every_method_beats_random_on_the_shipped_cnn(fmnist):
    model = checkpoint.load(Path(__file__).resolve().parents[2] / "checkpoints" / "simple_cnn.safetensors").model
    areas = {}
    for index in range(8):
        image = fmnist.test_images[index]
        found = explanations.explain_all(model, image)
        target = found["saliency"].target
        curves = deletion.curves(model, image, {m: e.heatmap for m, e in found.items()}, target)
        for method, c in curves.items():
            assert c.probabilities[0] == pytest.approx(found[method].probabilities[target], abs=1e-5)
            areas.setdefault(method, []).append((c.area, c.random_area))
    assert list(areas) == list(explanations.METHODS)
    for method, pairs in areas.items():
        mine, random = np.mean(pairs, axis=0)
        assert mine < random - 0.1, (method, mine, random)
