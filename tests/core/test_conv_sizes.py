"""The sizes explorer's arithmetic against torch.nn.Conv2d, for every combination of its controls."""

import itertools

import numpy as np
import pytest
import torch
from torch import nn

from core.analysis import conv_sizes
from core.analysis.conv_sizes import Geometry
from core.base.errors import StudioError

COMBINATIONS = list(
    itertools.product(conv_sizes.KERNELS, conv_sizes.STRIDES, conv_sizes.PADDINGS, conv_sizes.DILATIONS)
)


def torch_field(g: Geometry, row: int, col: int) -> set[tuple[int, int]]:
    """The input pixels whose value changes output cell (row, col) of a real Conv2d (its gradient is not zero)."""
    conv = nn.Conv2d(1, 1, g.kernel, g.stride, g.padding, g.dilation, bias=False)
    nn.init.constant_(conv.weight, 1.0)
    x = torch.zeros(1, 1, g.size, g.size, requires_grad=True)
    conv(x)[0, 0, row, col].backward()
    return {tuple(p) for p in (x.grad[0, 0] != 0).nonzero().tolist()}


def test_every_combination_agrees_with_conv2d():
    assert len(COMBINATIONS) == 7 * 3 * 4 * 3
    for kernel, stride, padding, dilation in COMBINATIONS:
        g = Geometry(kernel, stride, padding, dilation)
        out = nn.Conv2d(1, 1, kernel, stride, padding, dilation)(torch.zeros(1, 1, 28, 28)).shape[-1]
        assert g.output == out, (kernel, stride, padding, dilation)
        for row, col in ((0, 0), (out - 1, out - 1), (out // 2, 0)):
            assert set(g.receptive_field(row, col)) == torch_field(g, row, col), (g, row, col)


def test_the_numbers_a_student_reads():
    g = Geometry(5, 1, 0, 1)
    assert g.output == 24 and g.span == 5 and g.taps(0) == [0, 1, 2, 3, 4]
    g = Geometry(3, 2, 1, 2)
    assert g.output == 13 and g.span == 5 and g.taps(0) == [-1, 1, 3] and g.taps(12) == [23, 25, 27]
    assert g.receptive_field(0, 0) == [(1, 1), (1, 3), (3, 1), (3, 3)]  # the taps in the padding read zeros
    assert g.describe() == (
        "28×28 input, 3×3 kernel, stride 2, padding 1, dilation 2 → 13×13 output; each output cell reads 3×3 "
        "pixels spread over 5×5"
    )


def test_impossible_settings_are_one_line():
    with pytest.raises(StudioError, match=r"^a 7×7 kernel with dilation 5 spans 31 pixels, more than the 28×28"):
        conv_sizes.output_size(28, 7, dilation=5)
    with pytest.raises(StudioError, match=r"^stride must be a whole number ≥ 1, got 0\.$"):
        conv_sizes.output_size(28, 3, stride=0)
    with pytest.raises(StudioError, match=r"^cell 24 is outside the 24×24 output \(0-23\)\.$"):
        Geometry(5).taps(24)


def test_pictures_mark_the_receptive_field():
    g = Geometry(3, 2, 1, 2)
    picture = conv_sizes.input_picture(g, 0, 0, image=np.full((28, 28), 200, np.uint8), cell=10)
    assert picture.shape == (300, 300, 3) and picture.dtype == np.uint8  # 28 + 2 × 1 padding cells of 10 px
    orange = np.all(np.abs(picture.astype(int) - [229, 129, 57]) < 40, axis=-1)
    centres = {(r // 10, c // 10) for r, c in zip(*orange.nonzero())}
    assert centres == {(r, c) for r in (0, 2, 4) for c in (0, 2, 4)}  # padded coordinates of the 9 taps
    out = conv_sizes.output_picture(g, 12, 0, cell=10)
    assert out.shape == (130, 130, 3) and tuple(out[125, 5]) == (242, 115, 26)
