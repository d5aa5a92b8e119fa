"""Test-time flip: a model trained with mirror images predicts with the average over the image and its mirror,
wherever it is used (training's validation and test, inference, a reloaded checkpoint, ONNX and TorchScript)."""

import pytest
import torch

from core.analysis import inference
from core.base.errors import StudioError
from core.io import checkpoint, export
from core.models import build, set_flip_averaging, uses_flip_averaging
from core.training.config import TrainConfig
from core.training.trainer import Trainer


def _model():
    torch.manual_seed(0)
    return build("simple_cnn", {"width": 1}).eval()


def test_needs_a_model_trained_with_flips():
    with pytest.raises(
        StudioError, match="^test-time flip needs a model trained with flipped images: turn augmentation on.$"
    ):
        TrainConfig(test_time_flip=True, augment=False).validate()
    assert TrainConfig(test_time_flip=True, augment=True).validate().test_time_flip


def test_a_marked_model_averages_the_logits_of_both_images():
    model, images = _model(), torch.randint(0, 256, (5, 28, 28), dtype=torch.uint8)
    plain = inference.logits(model, images)
    mirrored = inference.logits(model, images.flip(-1))
    model = set_flip_averaging(model)
    assert torch.allclose(inference.logits(model, images), (plain + mirrored) / 2, atol=1e-5)
    assert not torch.allclose(plain, mirrored, atol=1e-3)  # the mirror really is another input


def test_the_checkpoint_keeps_the_mark_and_exports_honour_it(tmp_path):
    model, x = _model(), torch.rand(4, 1, 28, 28)
    config = TrainConfig(arch="simple_cnn", augment=True, test_time_flip=True).validate().to_dict()
    checkpoint.save(tmp_path / "m.safetensors", model, "simple_cnn", config["arch_settings"], {"config": config})
    loaded = checkpoint.load(tmp_path / "m.safetensors")
    assert uses_flip_averaging(loaded.model)
    expected = inference.logits(loaded.model, (x[:, 0] * 255).round().to(torch.uint8))
    wrapped = export.prepare(loaded)
    assert torch.allclose(wrapped((x * 255).round() / 255), expected, atol=1e-4)
    scripted, meta = export.load_torchscript(export.to_torchscript(loaded))
    assert meta["test_time_flip"] == "true"
    assert torch.allclose(scripted((x * 255).round() / 255), expected, atol=1e-4)
    onnx = export.to_onnx(loaded)
    assert export.onnx_metadata(onnx)["test_time_flip"] == "true"
    from_onnx = export.run_onnx(export.onnx_session(onnx), ((x * 255).round() / 255).numpy())
    assert torch.allclose(torch.from_numpy(from_onnx), expected, atol=1e-4)
    config["test_time_flip"] = False
    checkpoint.save(tmp_path / "n.safetensors", model, "simple_cnn", config["arch_settings"], {"config": config})
    assert not uses_flip_averaging(checkpoint.load(tmp_path / "n.safetensors").model)


def test_training_selects_and_tests_with_the_flip(fmnist, tmp_path):
    config = TrainConfig(
        arch="simple_cnn",
        epochs=2,
        limit=3000,
        batch_size=128,
        lr=3e-3,
        augment=True,
        test_time_flip=True,
        val_fraction=0.2,
    ).validate()
    result = Trainer(config, fmnist, runs_root=tmp_path).run()
    best = checkpoint.load(result.run_dir / "best.safetensors")
    assert uses_flip_averaging(best.model)
    test = inference.metrics(best.model, fmnist.test_images, fmnist.test_labels)
    assert best.metadata["metrics"]["test_accuracy"] == pytest.approx(test["accuracy"], abs=1e-6)
    assert (
        test["accuracy"]
        != inference.metrics(set_flip_averaging(best.model, False), fmnist.test_images, fmnist.test_labels)["accuracy"]
    )
