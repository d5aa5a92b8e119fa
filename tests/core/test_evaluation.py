"""Evaluation of a trained checkpoint on the test set: numbers, caching, CSV."""

import csv
import io
import os

import numpy as np
import pytest
import torch

from core.analysis import evaluation, inference
from core.base.errors import CheckpointError
from core.io import checkpoint, preprocess


def test_numbers_agree_with_inference(result, ckpt, fmnist):
    model = checkpoint.load(ckpt).model
    expected = inference.metrics(model, fmnist.test_images, fmnist.test_labels)
    assert result.count == 10_000
    assert result.probabilities.shape == (10_000, 10)
    assert result.confusion_matrix.sum() == 10_000
    assert result.confusion_matrix.tolist() == expected["confusion_matrix"]
    assert result.accuracy == pytest.approx(expected["accuracy"], abs=1e-6)
    np.testing.assert_allclose(result.per_class_accuracy, expected["per_class_accuracy"], atol=1e-6)
    assert result.accuracy > 0.6  # it did learn
    assert np.array_equal(result.confusion_matrix.sum(1), np.full(10, 1000))


def test_cached_in_memory_and_on_disk(result, ckpt, fmnist):
    assert evaluation.evaluate(ckpt, fmnist) is result
    disk = evaluation.cache_path(ckpt)
    assert disk == ckpt.with_name("best.eval.npz") and disk.is_file()
    evaluation._memory.clear()
    again = evaluation.evaluate(ckpt, fmnist)
    assert again is not result and np.array_equal(again.probabilities, result.probabilities)


def test_a_changed_checkpoint_is_evaluated_again(ckpt, fmnist, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(ckpt.parent, run)
    copy = run / "best.safetensors"
    first = evaluation.evaluate(copy, fmnist)
    loaded = checkpoint.load(copy)
    with torch.no_grad():
        loaded.model.classifier[-1].bias.add_(torch.tensor([50.0] + [0.0] * 9))  # everything becomes T-shirt
    checkpoint.save(copy, loaded.model, loaded.arch, loaded.settings, {})
    os.utime(copy, ns=(copy.stat().st_mtime_ns + 10**9,) * 2)
    second = evaluation.evaluate(copy, fmnist)
    assert second.confusion_matrix[:, 0].sum() == 10_000
    assert first.confusion_matrix[:, 0].sum() < 10_000


def test_missing_checkpoint_is_a_clear_error(tmp_path, fmnist):
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        evaluation.evaluate(tmp_path / "nope.safetensors", fmnist)


def test_pairs_sorted_by_confidence(result):
    idx = result.pair(6, 0)
    assert len(idx) == result.confusion_matrix[6, 0]
    assert all(result.labels[idx] == 6) and all(result.predictions[idx] == 0)
    conf = result.confidence[idx]
    assert np.all(np.diff(conf) <= 0)
    assert np.array_equal(result.pair(6, 0, most_confident_first=False), idx[::-1]) or len(set(conf)) < len(conf)
    top = result.top_k(int(idx[0]))
    assert top[0][0] == "T-shirt/top" and len(top) == 3 and top[0][1] >= top[1][1] >= top[2][1]


def test_predictions_csv(result):
    rows = list(csv.reader(io.StringIO(evaluation.predictions_csv(result))))
    assert rows[0] == ["index", "true_label", "true_class", "predicted_label", "predicted_class", "confidence"]
    assert len(rows) == 10_001
    body = rows[1:]
    assert [int(r[0]) for r in body] == list(range(10_000))
    assert [int(r[1]) for r in body] == result.labels.tolist()
    assert [int(r[3]) for r in body] == result.predictions.tolist()
    assert float(body[0][5]) == pytest.approx(result.confidence[0], abs=1e-4)


def test_summary_json_ready(result):
    s = evaluation.summary(result)
    assert s["count"] == 10_000 and sum(map(sum, s["confusion_matrix"])) == 10_000
    assert list(s["per_class_accuracy"])[6] == "Shirt"


def test_inverted_upload_is_classified_like_the_original(result, ckpt, fmnist):
    """A real test image saved dark-on-light comes back close to the original and gets the same class."""
    model = checkpoint.load(ckpt).model
    correct = np.flatnonzero((result.predictions == result.labels) & (result.confidence > 0.9))[:20]
    same = 0
    for i in correct:
        upload = preprocess.encode_png(255 - fmnist.test_images[i].numpy())
        tensor = preprocess.from_bytes(upload).tensor
        same += int(inference.probabilities(model, tensor[None]).argmax()) == result.labels[i]
    assert same == len(correct) == 20
