"""Training, evaluation, export and explanations on the device FMNIST_TEST_DEVICE names (cpu by default; the GPU
check runs them on cuda): the same answers as on the CPU, and bfloat16 autocast where the trainer says so."""

import numpy as np
import pytest
import torch

from core.analysis import explanations, export_check, inference
from core.base.device import cpu_has_bf16
from core.io import checkpoint, export
from core.library.catalog import SHIPPED_DIR
from core.models import build
from core.training.config import TrainConfig
from core.training.trainer import Trainer, use_bf16
from tests.device import DEVICE

SHIPPED = SHIPPED_DIR / "simple_cnn.safetensors"
# A short run that takes every path of the training loop: batched flips and shifts on the device, an average of
# the weights (EMA), a validation split, test-time flip, the one-cycle schedule and (where it pays) bf16.
RUN = dict(
    arch="fast_cnn",
    limit=5000,
    epochs=2,
    batch_size=128,
    lr=1e-2,
    optimizer="adamw",
    schedule="onecycle",
    label_smoothing=0.1,
    augment=True,
    augment_shift=1,
    ema=0.9,
    test_time_flip=True,
    val_fraction=0.1,
    seed=0,
)


@pytest.fixture(scope="module")
def trained(fmnist, tmp_path_factory):
    events = []
    config = TrainConfig(device=DEVICE, **RUN)
    result = Trainer(config, fmnist, runs_root=tmp_path_factory.mktemp("device-runs"), on_event=events.append).run()
    return config, result, events


def test_trains_on_the_device(trained):
    config, result, events = trained
    start = events[0]
    assert start["event"] == "start" and start["device"].split(" ")[0] == torch.device(DEVICE).type
    assert (start["train_size"], start["val_size"], start["steps_per_epoch"]) == (4500, 500, 36)
    assert start["bf16"] is use_bf16(config, torch.device(DEVICE))
    assert result.status == "completed" and result.epochs_run == 2
    assert result.test_accuracy >= 0.78
    loaded = checkpoint.load(result.checkpoint, DEVICE)
    assert next(loaded.model.parameters()).device.type == torch.device(DEVICE).type
    assert loaded.metadata["metrics"]["test_accuracy"] == pytest.approx(result.test_accuracy)


def test_bfloat16_autocast_where_the_trainer_uses_it():
    device = torch.device(DEVICE)
    expected = True if device.type == "cuda" else cpu_has_bf16()
    assert use_bf16(TrainConfig(arch="resnet18"), device) is expected
    assert use_bf16(TrainConfig(arch="resnet18", amp=False), device) is False
    torch.manual_seed(0)
    model = build("resnet18", {"width": 0.25}).to(device).train()
    x, y = torch.randn(8, 1, 28, 28, device=device), torch.arange(8, device=device) % 10
    with torch.autocast(device.type, dtype=torch.bfloat16):
        out = model(x)
        loss = torch.nn.functional.cross_entropy(out.float(), y)
    loss.backward()
    assert out.dtype == torch.bfloat16 and out.shape == (8, 10)
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads)


def test_evaluation_on_the_device_matches_the_cpu(fmnist):
    images, labels = fmnist.test_images[:2000], fmnist.test_labels[:2000]
    on_cpu = inference.metrics(checkpoint.load(SHIPPED).model, images, labels)
    on_device = inference.metrics(checkpoint.load(SHIPPED, DEVICE).model, images, labels)
    assert on_device["count"] == 2000
    assert abs(on_device["accuracy"] - on_cpu["accuracy"]) <= 0.001  # at most 2 of 2,000 images differ
    assert on_device["accuracy"] > 0.9
    assert on_device["loss"] == pytest.approx(on_cpu["loss"], abs=2e-3)


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_a_checkpoint_trained_on_the_device_exports_exactly(trained, fmt, fmnist):
    _, result, _ = trained
    data = export.export_bytes(result.checkpoint, fmt)
    check = export_check.check(result.checkpoint, fmt, fmnist.test_images[:1000], fmnist.test_labels[:1000], data)
    assert check.count == 1000 and check.max_abs_diff < 1e-4
    assert check.accuracy_exported == check.accuracy_pytorch > 0.75 and check.agreement == 1.0


def test_explanations_on_the_device_match_the_cpu(fmnist):
    image = fmnist.test_images[0]  # an ankle boot
    on_cpu = explanations.explain_all(checkpoint.load(SHIPPED).model, image)
    on_device = explanations.explain_all(checkpoint.load(SHIPPED, DEVICE).model, image)
    assert set(on_device) == set(on_cpu) == {"gradcam", "saliency", "integrated_gradients", "occlusion"}
    for method, e in on_device.items():
        reference = on_cpu[method]
        assert (e.prediction, e.target, e.heatmap.shape) == (reference.prediction, reference.target, (28, 28))
        assert e.prediction == 9, method
        # the same map up to float rounding (TF32 convolutions on a GPU): correlation, not equality
        corr = np.corrcoef(e.heatmap.ravel(), reference.heatmap.ravel())[0, 1]
        assert corr > 0.99, (method, corr)
