"""Every epoch of a run records the first filters and each layer's weight and gradient histograms, in the run
folder (a few kB) and in the TensorBoard event files."""

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from core.io import runs
from core.models import build
from core.training import epoch_snapshots
from core.training.config import TrainConfig
from core.training.trainer import Trainer


@pytest.fixture(scope="module")
def run(fmnist, tmp_path_factory):
    config = TrainConfig(arch="simple_cnn", limit=1000, epochs=3, batch_size=100, lr=3e-3, device="cpu", seed=1)
    return Trainer(config, fmnist, runs_root=tmp_path_factory.mktemp("runs")).run()


def test_each_epoch_is_recorded_in_the_run_folder(run):
    found = epoch_snapshots.read(run.run_dir)
    assert [s.epoch for s in found] == [1, 2, 3]
    sizes = [epoch_snapshots.path(run.run_dir, e).stat().st_size for e in (1, 2, 3)]
    assert max(sizes) < 8_000, sizes  # a few kB an epoch
    names = ["conv1.0", "conv2.0", "classifier.1", "classifier.4", "classifier.7"]
    for s in found:
        assert list(s.weights) == list(s.gradients) == names
        assert s.filters.shape == (6, 1, 5, 5)
        assert int(s.weights["conv2.0"].counts.sum()) == 16 * 6 * 5 * 5
        assert s.gradients["classifier.7"].high > s.gradients["classifier.7"].low
    # the last epoch is the weights the run ended with (its last.pt)
    last = torch.load(run.run_dir / runs.STATE, weights_only=True)["model"]
    assert np.allclose(found[-1].filters, last["conv1.0.weight"].numpy(), atol=2e-3)  # kept as float16
    stats = found[-1].weights["classifier.7"]
    weight = last["classifier.7.weight"]
    assert (stats.low, stats.high) == pytest.approx((weight.min().item(), weight.max().item()))
    assert stats.total == pytest.approx(weight.sum().item(), abs=1e-4)
    assert not np.allclose(found[0].filters, found[-1].filters)  # training moved them


def test_the_same_go_to_tensorboard(run):
    acc = EventAccumulator(str(run.run_dir), size_guidance={"images": 0, "histograms": 0}).Reload()
    tags = acc.Tags()
    assert "filters/first_layer" in tags["images"]
    assert [e.step for e in acc.Images("filters/first_layer")] == [1, 2, 3]
    assert {"weights/conv1.0", "gradients/classifier.7"} <= set(tags["histograms"])
    logged = acc.Histograms("weights/conv2.0")
    saved = epoch_snapshots.read(run.run_dir)
    assert [e.step for e in logged] == [1, 2, 3]
    assert [e.histogram_value.num for e in logged] == [2400.0] * 3
    assert logged[-1].histogram_value.max == pytest.approx(saved[-1].weights["conv2.0"].high)


def test_a_model_without_a_convolution_has_histograms_only(tmp_path):
    model = build("mlp")
    model(torch.zeros(4, 1, 28, 28)).sum().backward()
    epoch_snapshots.record(tmp_path, 1, model)
    [s] = epoch_snapshots.read(tmp_path)
    assert s.filters is None and list(s.weights) == list(s.gradients) == ["hidden.1.0", "hidden.2.0", "head"]
    assert epoch_snapshots.read(tmp_path / "nothing") == []
    epoch_snapshots.path(tmp_path, 2).write_bytes(b"half a fi")  # a run still writing: skipped
    assert [x.epoch for x in epoch_snapshots.read(tmp_path)] == [1]


def test_resnet_snapshot_is_a_few_kb(tmp_path):
    model = build("resnet18")
    epoch_snapshots.record(tmp_path, 1, model)
    [s] = epoch_snapshots.read(tmp_path)
    assert len(s.weights) == 21 and s.gradients == {}  # 20 convolutions and the output layer; no gradient yet
    assert epoch_snapshots.path(tmp_path, 1).stat().st_size < 12_000
