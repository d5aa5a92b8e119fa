"""The batched augmentation: shifts move, flips mirror, random erasing replaces one rectangle in a share of images."""

import torch

from core.data.augment import augment, random_erase, random_flip, random_shift


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_a_shift_moves_a_single_pixel_by_at_most_the_largest_shift():
    x = torch.zeros(500, 1, 28, 28)
    x[:, :, 14, 14] = 1
    y = random_shift(x, 2, _gen())
    assert y.shape == (500, 1, 28, 28)
    where = y[:, 0].flatten(1).argmax(1)
    rows, cols = where // 28, where % 28
    assert y.flatten(1).sum(1).eq(1).all()  # the pixel is moved, not lost
    assert set(rows.tolist()) == {12, 13, 14, 15, 16} and set(cols.tolist()) == {12, 13, 14, 15, 16}


def test_a_flip_mirrors_about_half_of_the_images():
    x = torch.arange(28.0).expand(1000, 1, 28, 28)
    y = random_flip(x, _gen())
    mirrored = y[:, 0, 0, 0].eq(27)
    assert torch.equal(y[mirrored], x[mirrored].flip(-1)) and torch.equal(y[~mirrored], x[~mirrored])
    assert 430 < int(mirrored.sum()) < 570


def test_erasing_replaces_one_rectangle_of_2_to_25_percent_in_the_asked_share():
    x = torch.full((4000, 1, 28, 28), -1.0)  # a value the noise (in [0, 1]) never takes
    y = random_erase(x, 0.5, generator=_gen())
    erased = y.ne(-1)[:, 0]
    hit = erased.flatten(1).any(1)
    assert 0.47 < hit.float().mean().item() < 0.53
    assert y[:, 0][erased].min() >= 0 and y[:, 0][erased].max() <= 1
    for mask in erased[hit][:300]:
        rows, cols = mask.any(1).nonzero().flatten(), mask.any(0).nonzero().flatten()
        height, width = int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)
        assert int(mask.sum()) == height * width  # one solid rectangle
        assert 0.01 <= height * width / 784 <= 0.27  # 2-25% of the picture, as rounded to whole pixels
    sizes = erased[hit].flatten(1).sum(1).float() / 784
    assert 0.11 < sizes.mean().item() < 0.16  # uniform over 2-25%: about 13.5% on average


def test_erasing_nothing_returns_the_images_and_a_seed_repeats_itself():
    x = torch.rand(64, 1, 28, 28)
    assert random_erase(x, 0.0, generator=_gen()) is x
    assert torch.equal(augment(x, 1, True, 0.5, _gen(3)), augment(x, 1, True, 0.5, _gen(3)))
    assert not torch.equal(augment(x, 1, True, 0.5, _gen(3)), augment(x, 1, True, 0.5, _gen(4)))
    every = random_erase(x, 1.0, generator=_gen())
    assert every.ne(x).flatten(1).any(1).all()
