"""The data settings and the shipped Data lab results on the real Fashion-MNIST: short trainings, and the
shipped suspect labels and near-duplicates checked against the images themselves."""

import numpy as np
import pytest
import torch

from core.analysis import duplicates, inference, label_issues
from core.io import checkpoint
from core.training import training_set
from core.training.recipes import preset_config
from core.training.trainer import Trainer


def quick(**changes):
    config = preset_config("quick_demo")
    for name, value in changes.items():
        setattr(config, name, value)
    return config.validate()


def test_a_short_run_with_40_percent_noise_learns_and_records_its_flips(fmnist, tmp_path):
    result = Trainer(quick(limit=6000, epochs=2, label_noise=0.4), fmnist, runs_root=tmp_path, tensorboard=False).run()
    summary = training_set.read_summary(result.run_dir)
    assert summary["train_images"] == 6000 and summary["validation_images"] == 0
    assert summary["flipped_labels"] == 2400 and summary["label_noise_kind"] == "uniform"
    with np.load(result.run_dir / training_set.ARRAYS_FILE) as z:
        flipped, given = z["flipped"], z["flipped_given"]
        trained = dict(zip(z["train"].tolist(), z["train_labels"].tolist()))
    assert len(flipped) == 2400 and flipped.max() < 6000
    assert np.array_equal(given, fmnist.train_labels.numpy()[flipped])
    assert all(trained[i] != g for i, g in zip(flipped.tolist(), given.tolist()))
    # the majority of each class's labels is still right: the model learns the classes, tested on clean labels
    assert 0.70 < result.test_accuracy < 0.92


def test_a_subset_of_classes_is_tested_on_those_classes_only(fmnist, tmp_path):
    classes = ["Trouser", "Bag", "Sneaker"]
    result = Trainer(
        quick(epochs=1, classes=classes, per_class=300), fmnist, runs_root=tmp_path, tensorboard=False
    ).run()
    summary = training_set.read_summary(result.run_dir)
    assert summary["trained_labels_per_class"] == {"Trouser": 300, "Sneaker": 300, "Bag": 300}
    model = checkpoint.load(result.checkpoint).model
    keep = torch.isin(fmnist.test_labels, torch.tensor([1, 7, 8]))
    assert int(keep.sum()) == 3000
    predictions = inference.logits(model, fmnist.test_images[keep]).argmax(1)
    assert result.test_accuracy == pytest.approx((predictions == fmnist.test_labels[keep]).float().mean().item())
    assert result.test_accuracy > 0.95
    assert model(torch.zeros(1, 1, 28, 28)).shape == (1, 10)  # still a ten-class model


def test_the_shipped_suspect_ranking_belongs_to_this_dataset(fmnist):
    found = label_issues.load(fmnist)
    assert found is not None, "checkpoints/data_lab/ should hold the ranking for the official training set"
    assert (found.recipe, found.k) == ("quick_demo", 5)
    assert found.probabilities.shape == (60000, 10)
    assert np.array_equal(found.labels, fmnist.train_labels.numpy())
    assert 0.90 < found.accuracy < 0.94  # the quick demo's accuracy, measured out of fold
    assert 500 < found.flagged.sum() < 5000
    worst = found.worst(100)
    assert (found.suggested[worst] != found.labels[worst]).sum() >= 95
    assert found.flagged[worst].mean() > 0.75  # cleanlab flags most of them (its own per-class estimate)


def test_leaving_out_the_top_suspects_removes_exactly_those(fmnist):
    chosen = training_set.choose(fmnist, quick(drop_suspects=500))
    worst = set(label_issues.load(fmnist).worst(500).tolist())
    assert len(chosen.train) == 59500 and not worst & set(chosen.train.tolist())
    assert set(chosen.dropped.tolist()) == worst and chosen.changed


def test_the_shipped_near_duplicates_are_real_and_complete_on_a_slice(fmnist):
    pairs = duplicates.load(fmnist)
    assert pairs is not None, "checkpoints/data_lab/ should hold the near-duplicates of the official dataset"
    images = {"train": fmnist.train_images, "test": fmnist.test_images}
    for s, a, t, b, d in zip(pairs.a_split, pairs.a_index, pairs.b_split, pairs.b_index, pairs.distance):
        x, y = images[duplicates.SPLITS[s]][a], images[duplicates.SPLITS[t]][b]
        assert float(((x.float() - y.float()) / 255).pow(2).mean().sqrt()) == pytest.approx(float(d), abs=1e-5)
        assert d < pairs.threshold
    assert len(pairs.leaked_test_indices()) > 10  # Fashion-MNIST has test images with a copy in training
    # searched again on the first 8,000 training and 2,000 test images: the same pairs as the shipped list there
    fresh = duplicates.find_pairs(fmnist.train_images[:8000], fmnist.test_images[:2000])
    inside = np.where(pairs.a_split == 0, pairs.a_index < 8000, pairs.a_index < 2000) & np.where(
        pairs.b_split == 0, pairs.b_index < 8000, pairs.b_index < 2000
    )
    assert len(fresh) == int(inside.sum()) > 0
    assert np.array_equal(np.sort(fresh.b_index), np.sort(pairs.b_index[inside]))
