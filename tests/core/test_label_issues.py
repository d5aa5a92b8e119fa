"""Suspect labels on synthetic data with known flipped labels: out-of-fold training and cleanlab find them."""

import io

import numpy as np
import pytest
import torch

from core.analysis import label_issues
from core.base.errors import StudioError
from core.data.dataset import FashionMNIST
from core.training import out_of_fold

CLASSES = 10
PER_CLASS = 150
FLIPPED = 60  # of 1,500 labels: 4%


def pattern_images(labels: torch.Tensor, seed: int) -> torch.Tensor:
    """Each class a bright bar at its own height over noise: easy to learn, so a wrong label stands out."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 60, (len(labels), 28, 28), generator=generator, dtype=torch.uint8)
    for i, c in enumerate(labels.tolist()):
        images[i, 2 + 2 * c : 4 + 2 * c, 3:25] = 230
    return images


@pytest.fixture(scope="module")
def planted():
    """(dataset whose training labels have FLIPPED known errors, the flipped indices)."""
    true = torch.arange(CLASSES).repeat_interleave(PER_CLASS)
    generator = torch.Generator().manual_seed(1)
    flipped = torch.randperm(len(true), generator=generator)[:FLIPPED].sort().values
    given = true.clone()
    given[flipped] = (true[flipped] + torch.randint(1, CLASSES, (FLIPPED,), generator=generator)) % CLASSES
    test_labels = torch.arange(CLASSES).repeat(5)
    data = FashionMNIST(pattern_images(true, 2), given, pattern_images(test_labels, 3), test_labels, "planted")
    return data, set(flipped.tolist())


def test_out_of_fold_training_and_cleanlab_find_the_planted_label_errors(planted):
    data, flipped = planted
    found = out_of_fold.suspects(data, recipe="linear", k=3)
    assert found.probabilities.shape == (CLASSES * PER_CLASS, CLASSES)
    assert np.allclose(found.probabilities.sum(1), 1, atol=2e-3)
    for c in range(CLASSES):  # each class spread evenly over the folds
        per_fold = np.bincount(found.folds[found.labels == c], minlength=3)
        assert per_fold.max() - per_fold.min() <= 1
    # the out-of-fold model learned the true classes: it disagrees with (almost) exactly the flipped labels
    assert found.accuracy == pytest.approx(1 - FLIPPED / len(found.labels), abs=0.01)
    flagged = set(np.flatnonzero(found.flagged).tolist())
    assert len(flagged & flipped) >= 0.95 * FLIPPED  # found
    assert len(flagged - flipped) <= 0.05 * FLIPPED  # and few false alarms
    assert len(set(found.worst(FLIPPED).tolist()) & flipped) >= 0.95 * FLIPPED
    true = data.train_labels.clone()
    assert (found.suggested[sorted(flipped)] != true[sorted(flipped)].numpy()).all()
    # stored in the cache, found again for the same data, not for other data
    assert label_issues.load(data, "linear", 3).fingerprint == found.fingerprint
    other = FashionMNIST(data.train_images.flip(0), data.train_labels, data.test_images, data.test_labels, "x")
    assert label_issues.load(other, "linear", 3) is None


def test_cleanlab_ranks_made_up_probabilities_with_known_errors():
    rng = np.random.default_rng(0)
    true = rng.integers(0, 4, 400)
    logits = rng.normal(0, 1, (400, 4))
    logits[np.arange(400), true] += 5
    probabilities = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    given = true.copy()
    wrong = rng.choice(400, 20, replace=False)
    given[wrong] = (true[wrong] + 1) % 4
    quality, flagged = label_issues.rank(probabilities, given)
    assert quality.shape == (400,) and quality.dtype == np.float32
    assert np.allclose(quality, probabilities[np.arange(400), given], atol=1e-6)  # self-confidence
    assert set(np.argsort(quality)[:20].tolist()) == set(wrong.tolist())
    assert set(np.flatnonzero(flagged).tolist()) == set(wrong.tolist())
    with pytest.raises(StudioError, match=r"^probabilities of shape \(400, 4\) do not match 3 labels\.$"):
        label_issues.rank(probabilities, given[:3])


def made_up(n: int = 50) -> label_issues.Suspects:
    rng = np.random.default_rng(1)
    probabilities = rng.dirichlet(np.ones(10), n)
    labels = rng.integers(0, 10, n)
    folds = np.arange(n) % 5
    return label_issues.build("quick_demo", 5, labels, probabilities, folds, 12.5, "abc")


def test_a_stored_result_reads_back_the_same_and_only_for_its_data(tmp_path):
    found = made_up()
    path = label_issues.save(found, tmp_path / "s.npz")
    back = label_issues.read(path, "abc")
    assert back is not None and label_issues.read(path, "other data") is None
    assert np.array_equal(back.labels, found.labels) and np.array_equal(back.flagged, found.flagged)
    assert np.array_equal(back.probabilities, found.probabilities)  # stored as float16, ranked as stored
    assert np.array_equal(back.quality, found.quality) and np.array_equal(back.order, found.order)
    assert (back.recipe, back.k, back.seconds) == ("quick_demo", 5, 12.5)
    assert label_issues.read(tmp_path / "missing.npz") is None


def test_the_csv_lists_every_image_worst_first():
    found = made_up()
    out = io.StringIO()
    label_issues.write_csv(found, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "index,given,suggested,quality"
    rows = [line.split(",") for line in lines[1:]]
    assert sorted(int(r[0]) for r in rows) == list(range(50))
    assert [float(r[3]) for r in rows] == sorted(float(r[3]) for r in rows)
    first = int(rows[0][0])
    assert first == int(np.argmin(found.quality))
    assert rows[0][1] == label_issues.CLASS_NAMES[found.labels[first]]


def test_selecting_by_given_and_likely_label_keeps_the_worst_first_order():
    found = made_up(400)
    pair = found.select(given=6, suggested=0)
    assert all(found.labels[i] == 6 and found.suggested[i] == 0 for i in pair)
    assert len(pair) == int(((found.labels == 6) & (found.suggested == 0)).sum())
    assert list(found.quality[pair]) == sorted(found.quality[pair])
    assert set(found.select(flagged_only=True).tolist()) == set(np.flatnonzero(found.flagged).tolist())


def test_too_few_or_too_many_folds_is_a_clear_error(planted):
    with pytest.raises(StudioError, match=r"^k \(the number of folds\) must be a whole number in 2-10, got 1\.$"):
        out_of_fold.probabilities(planted[0], "linear", k=1)
