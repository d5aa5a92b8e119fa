"""How training changed the network: a slider over the epochs of a finished run on Train and on Compare, showing
the first filters and a layer's weight and gradient histograms as they were after each epoch."""

import pytest
import torch

from core.library import catalog
from core.models import build
from core.training import epoch_snapshots
from dashboard.train import training
from tests.dashboard.studio_app import fake_run, forget_caches, open_page, poll

RUN = "20260102-100000-simple_cnn-bbbbbb"


@pytest.fixture
def runs_dir(monkeypatch, tmp_path, data_dir):
    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path / "runs"))
    empty = tmp_path / "no-shipped"
    empty.mkdir()
    monkeypatch.setattr(catalog, "SHIPPED_DIR", empty)
    forget_caches()
    yield tmp_path / "runs"
    for job in training.manager().jobs():
        training.manager().stop(job.id)
        training.manager().wait(job.id, timeout=60)
    forget_caches()


def histogram_rows(at):
    """Every dataset of the last chart (one per histogram) as one DataFrame."""
    import pandas as pd
    import pyarrow as pa

    chart = at.get("vega_lite_chart")[-1].proto
    return pd.concat([pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.datasets])


def captions(at) -> list[str]:
    return [img.caption for e in at.get("image") for img in e.proto.imgs]


def test_compare_steps_through_a_runs_epochs(runs_dir):
    run = fake_run(runs_dir, RUN, "simple_cnn", losses=(0.9, 0.5, 0.4))
    models = []
    for epoch in (1, 2, 3):
        torch.manual_seed(epoch)
        model = build("simple_cnn")
        model(torch.zeros(2, 1, 28, 28)).sum().backward()
        epoch_snapshots.record(run, epoch, model)
        models.append(model)
    at = open_page("views/compare.py")
    assert at.subheader[-1].value == "How training changed the network"
    slider = at.select_slider(key=f"history_epoch_compare_{RUN}")
    assert slider.options == ["1", "2", "3"] and slider.value == 3
    moved = (models[2].conv1[0].weight - models[0].conv1[0].weight).abs().mean().item()
    assert f"First layer filters after epoch 3 (mean change since epoch 1: {moved:.3f})" in captions(at)
    layers = at.selectbox(key=f"history_layer_compare_{RUN}")
    assert layers.options == ["conv1.0", "conv2.0", "classifier.1", "classifier.4", "classifier.7"]

    slider.set_value(1).run()
    assert "First layer filters after epoch 1" in captions(at)
    layers.set_value("conv2.0").run()
    rows = histogram_rows(at)
    weights = rows[rows.kind == "weights"]
    saved = epoch_snapshots.read(run)[0].weights["conv2.0"]
    assert list(weights["count"]) == saved.counts.tolist() and weights["from"].min() == pytest.approx(saved.low)
    assert set(rows.kind) == {"weights", "gradients (last batch)"}


def test_a_run_without_records_says_so(runs_dir):
    fake_run(runs_dir, RUN, "simple_cnn", losses=(0.9, 0.5))
    at = open_page("views/compare.py")
    assert "No per-epoch filters and histograms were recorded for this run" in at.caption[-1].value


def test_the_train_page_shows_a_finished_training(runs_dir):
    at = open_page("views/train.py")
    at.selectbox(key="train_arch").set_value("simple_cnn")
    at.number_input(key="train_limit").set_value(1000)
    at.number_input(key="train_epochs").set_value(2)
    at.button(key="train_start").click().run()
    poll(at, lambda at: at.success, timeout=300)
    [job] = training.manager().jobs()
    slider = at.select_slider(key=f"history_epoch_{job.id}")
    assert slider.options == ["1", "2"] and slider.value == 2
    assert any(c.startswith("First layer filters after epoch 2 (mean change since epoch 1: ") for c in captions(at))
    slider.set_value(1).run()
    assert "First layer filters after epoch 1" in captions(at)
    assert [s.epoch for s in epoch_snapshots.read(job.run_dir)] == [1, 2]
