"""The average of the weights warms up: a short run is evaluated with recent weights, a long one with a slow average."""

import pytest
import torch
from torch import nn

from core.training.ema import averaged, warmed_decay


def test_the_decay_warms_up_to_the_asked_one():
    assert warmed_decay(0.999, 0) == pytest.approx(0.1)
    assert warmed_decay(0.999, 90) == pytest.approx(0.91)
    assert warmed_decay(0.999, 8991) == pytest.approx(0.999)
    assert warmed_decay(0.999, 100_000) == 0.999
    assert warmed_decay(0.5, 3) == pytest.approx(4 / 13)
    assert warmed_decay(0.5, 30) == 0.5


def test_the_average_follows_a_moving_weight_with_the_warmed_decay():
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    ema = averaged(model, 0.999)
    ema.update_parameters(model)  # the first update copies 0.0
    value = 0.0
    for n in range(1, 51):
        with torch.no_grad():
            model.weight.fill_(float(n))
        ema.update_parameters(model)
        d = warmed_decay(0.999, n)
        value = d * value + (1 - d) * n
    assert ema.module.weight.item() == pytest.approx(value, rel=1e-5)
    assert 30 < value < 50  # recent weights dominate, unlike a fixed 0.999 (which would give about 1.3)


def test_buffers_are_averaged_too():
    model = nn.BatchNorm1d(2)
    ema = averaged(model, 0.99)
    ema.update_parameters(model)
    model.running_mean.fill_(4.0)
    ema.update_parameters(model)
    assert ema.module.running_mean.tolist() == pytest.approx([4.0 * (1 - warmed_decay(0.99, 1))] * 2)
