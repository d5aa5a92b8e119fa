"""Test-time shifts: with test-time flip, a model trained with shifts may also average over the image and its mirror
moved one pixel each way (ten passes); training, checkpoints, inference and exports all honour it."""

import pytest
import torch

from core.analysis import inference
from core.base.errors import StudioError
from core.io import checkpoint, export
from core.models import build, set_flip_averaging, uses_flip_averaging, uses_shift_averaging
from core.models.flip import moved
from core.training.config import TrainConfig
from core.training.trainer import Trainer


def _model():
    torch.manual_seed(0)
    return build("fast_cnn", {"width": 1}).eval()


def test_needs_test_time_flip():
    with pytest.raises(StudioError, match="^test-time shifts average the mirror images too: turn test-time flip on.$"):
        TrainConfig(augment=True, test_time_shift=True).validate()
    assert TrainConfig(augment=True, test_time_flip=True, test_time_shift=True).validate().test_time_shift


def test_a_move_fills_the_uncovered_edge_with_the_background_exactly():
    x = torch.full((2, 1, 5, 5), -0.81)
    x[:, 0, 2, 2] = 1.0
    x[1, 0, 0, 0] = 0.5
    for (rows, cols), where in zip(((-1, 0), (1, 0), (0, -1), (0, 1)), ((1, 2), (3, 2), (2, 1), (2, 3))):
        y = moved(x, rows, cols)
        assert y.shape == x.shape
        assert (y[0, 0] == 1).nonzero().tolist() == [list(where)]
        assert int(y[0].eq(-0.81).sum()) == 24  # the rest is background, the new edge included
    assert (moved(x, 1, 0)[1, 0] == 0.5).nonzero().tolist() == [[1, 0]]  # the corner pixel moved down
    assert (moved(x, -1, 0)[1, 0] == 0.5).nonzero().tolist() == []  # and out of the picture


def test_the_wrapper_averages_ten_passes():
    network, x = _model(), torch.randn(3, 1, 28, 28)
    views = [x] + [moved(x, r, c) for r, c in ((-1, 0), (1, 0), (0, -1), (0, 1))]
    with torch.no_grad():
        expected = sum(network(v) + network(v.flip(-1)) for v in views) / 10
        flipped_only = set_flip_averaging(network)(x)
        both = set_flip_averaging(network, shift=True)(x)
    assert torch.allclose(both, expected, atol=1e-5)
    assert not torch.allclose(both, flipped_only, atol=1e-3)


def test_the_checkpoint_keeps_the_mark_and_exports_honour_it(tmp_path):
    model, x = _model(), torch.rand(4, 1, 28, 28)
    config = TrainConfig(arch="fast_cnn", augment=True, test_time_flip=True, test_time_shift=True).validate()
    config = config.to_dict()
    checkpoint.save(tmp_path / "m.safetensors", model, "fast_cnn", config["arch_settings"], {"config": config})
    loaded = checkpoint.load(tmp_path / "m.safetensors")
    assert uses_flip_averaging(loaded.model) and uses_shift_averaging(loaded.model)
    pixels = (x * 255).round() / 255
    expected = inference.logits(loaded.model, (x[:, 0] * 255).round().to(torch.uint8))
    assert torch.allclose(export.prepare(loaded)(pixels), expected, atol=1e-4)
    onnx = export.to_onnx(loaded)
    assert export.onnx_metadata(onnx)["test_time_shift"] == "true"
    from_onnx = export.run_onnx(export.onnx_session(onnx), pixels.numpy())
    assert torch.allclose(torch.from_numpy(from_onnx), expected, atol=1e-4)
    config["test_time_flip"] = False  # shifts without the flip are not used
    checkpoint.save(tmp_path / "n.safetensors", model, "fast_cnn", config["arch_settings"], {"config": config})
    assert not uses_shift_averaging(checkpoint.load(tmp_path / "n.safetensors").model)


def test_training_tests_with_the_shifts(fmnist, tmp_path):
    config = TrainConfig(
        arch="fast_cnn",
        epochs=2,
        limit=3000,
        batch_size=128,
        lr=3e-3,
        augment=True,
        augment_shift=1,
        test_time_flip=True,
        test_time_shift=True,
        val_fraction=0.2,
    ).validate()
    result = Trainer(config, fmnist, runs_root=tmp_path).run()
    best = checkpoint.load(result.run_dir / "best.safetensors")
    assert uses_shift_averaging(best.model)
    test = inference.metrics(best.model, fmnist.test_images, fmnist.test_labels)
    assert best.metadata["metrics"]["test_accuracy"] == pytest.approx(test["accuracy"], abs=1e-6)
    assert test["accuracy"] > 0.75
    flip_only = inference.metrics(set_flip_averaging(best.model, shift=False), fmnist.test_images, fmnist.test_labels)
    assert test["accuracy"] != flip_only["accuracy"]
