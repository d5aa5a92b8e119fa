"""Near-duplicates on synthetic images with planted copies: every planted pair is found, nothing else is."""

import io

import numpy as np
import pytest
import torch

from core.analysis import duplicates
from core.base.errors import StudioError
from core.data.dataset import FashionMNIST


def noisy_copy(image: torch.Tensor, rms: float, seed: int) -> torch.Tensor:
    """`image` plus noise of about `rms` (in [0, 1] units) root-mean-square difference."""
    noise = torch.randn(image.shape, generator=torch.Generator().manual_seed(seed)) * rms * 255
    return (image.float() + noise).round().clamp(0, 255).to(torch.uint8)


def rms(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a.float() - b.float()) / 255).pow(2).mean().sqrt())


@pytest.fixture(scope="module")
def planted():
    """Random images (far apart: about 0.41 RMS) with copies planted in train, in test and across."""
    generator = torch.Generator().manual_seed(0)
    train = torch.randint(0, 256, (700, 28, 28), dtype=torch.uint8, generator=generator)
    test = torch.randint(0, 256, (300, 28, 28), dtype=torch.uint8, generator=generator)
    train[17] = train[5]  # an exact copy within train
    train[650] = noisy_copy(train[3], 0.02, 1)  # a near copy within train, far apart in the file
    test[9] = noisy_copy(test[8], 0.03, 2)  # within test
    test[3] = train[42]  # leaks: an exact copy and a near copy across the split
    test[7] = noisy_copy(train[99], 0.02, 3)
    test[200] = noisy_copy(train[99], 0.03, 4)  # a second test copy of the same training image
    test[100] = noisy_copy(train[400], 0.08, 5)  # similar, but not a near-duplicate
    expected = {
        ("train", 5, "train", 17),
        ("train", 3, "train", 650),
        ("test", 8, "test", 9),
        ("test", 7, "test", 200),  # two copies of one training image are copies of each other
        ("train", 42, "test", 3),
        ("train", 99, "test", 7),
        ("train", 99, "test", 200),
    }
    return train, test, expected


@pytest.mark.parametrize("block", [duplicates.BLOCK, 64, 7])
def test_every_planted_pair_is_found_and_nothing_else(planted, monkeypatch, block):
    train, test, expected = planted
    monkeypatch.setattr(duplicates, "BLOCK", block)  # the search goes block by block: any block size agrees
    pairs = duplicates.find_pairs(train, test)
    found = {
        (duplicates.SPLITS[s], int(a), duplicates.SPLITS[t], int(b))
        for s, a, t, b in zip(pairs.a_split, pairs.a_index, pairs.b_split, pairs.b_index)
    }
    assert found == expected
    assert pairs.counts() == {"within train": 2, "within test": 2, "across the split": 3}
    assert list(pairs.distance) == sorted(pairs.distance) and pairs.threshold == duplicates.THRESHOLD
    images = {"train": train, "test": test}
    for s, a, t, b, d in zip(pairs.a_split, pairs.a_index, pairs.b_split, pairs.b_index, pairs.distance):
        assert d == pytest.approx(rms(images[duplicates.SPLITS[s]][a], images[duplicates.SPLITS[t]][b]), abs=1e-5)
    assert pairs.leaked_test_indices().tolist() == [3, 7, 200]
    assert [(t, tr) for t, tr, _ in pairs.leaks()] == [(3, 42), (7, 99), (200, 99)]
    assert pairs.leaks()[0][2] == 0.0


def test_a_pair_just_above_the_threshold_is_not_a_near_duplicate(planted):
    train, test, _ = planted
    assert 0.06 < rms(test[100], train[400]) < 0.1
    pairs = duplicates.find_pairs(train, test, threshold=0.1)
    assert ((pairs.a_index == 400) & (pairs.b_index == 100) & pairs.kind("train", "test")).sum() == 1
    with pytest.raises(StudioError, match=r"^the duplicate threshold must be in \(0, 1\), got 0\.$"):
        duplicates.find_pairs(train, test, threshold=0)


def test_pairs_are_stored_for_their_images_only_and_written_as_csv(planted, tmp_path, monkeypatch):
    train, test, _ = planted
    labels = torch.zeros(len(train), dtype=torch.int64)
    data = FashionMNIST(train, labels, test, torch.zeros(len(test), dtype=torch.int64), "planted")
    monkeypatch.setattr(duplicates, "SHIPPED_PATH", tmp_path / "none.npz")
    assert duplicates.load(data) is None
    computed = duplicates.compute(data)
    assert duplicates.load(data).fingerprint == computed.fingerprint == duplicates.fingerprint(train, test)
    other = FashionMNIST(train, labels, test.flip(0), data.test_labels, "other")
    assert duplicates.load(other) is None
    out = io.StringIO()
    duplicates.write_csv(computed, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "a_split,a_index,b_split,b_index,distance"
    assert len(lines) == 1 + len(computed)
    assert lines[1] in ("train,5,train,17,0.0000", "train,42,test,3,0.0000")


def test_accuracy_without_the_leaked_test_images():
    predictions = np.array([0, 1, 1, 3, 4])
    labels = np.array([0, 1, 2, 3, 5])
    assert duplicates.accuracy_without(predictions, labels, []) == pytest.approx(0.6)
    assert duplicates.accuracy_without(predictions, labels, [2, 4]) == 1.0
    assert duplicates.accuracy_without(predictions, labels, [0, 1]) == pytest.approx(1 / 3)
