"""A training reads and writes its files once: resuming reads last.pt once, the end of a run writes best.pt once
(and does not read it back), and best.pt's recorded test accuracy is that of the weights it holds."""

import os

import pytest
import torch

from core.analysis import inference
from core.io import checkpoint, runs
from core.serving.jobs import JobManager
from core.training.config import TrainConfig
from core.training.trainer import Trainer


@pytest.fixture
def counted(monkeypatch):
    """Every file torch.load reads, checkpoint.load reads and checkpoint.save writes, by name."""
    seen = {"torch.load": [], "checkpoint.load": [], "checkpoint.save": []}
    torch_load, ckpt_load, ckpt_save = torch.load, checkpoint.load, checkpoint.save

    def counting_torch_load(f, *a, **kw):
        seen["torch.load"].append(os.fspath(f) if isinstance(f, (str, os.PathLike)) else repr(f))
        return torch_load(f, *a, **kw)

    def counting_load(path, *a, **kw):
        seen["checkpoint.load"].append(path.name)
        return ckpt_load(path, *a, **kw)

    def counting_save(path, model, arch, settings, metadata, **kw):
        seen["checkpoint.save"].append((path.name, dict(metadata.get("metrics", {}))))
        return ckpt_save(path, model, arch, settings, metadata, **kw)

    monkeypatch.setattr(torch, "load", counting_torch_load)
    monkeypatch.setattr(checkpoint, "load", counting_load)
    monkeypatch.setattr(checkpoint, "save", counting_save)
    return seen


def _stopped_after_epoch_1(fmnist, **settings):
    holder = {}

    def stop_after_epoch_1(event):
        if event["event"] == "epoch" and event["epoch"] == 1:
            holder["trainer"].stop()

    holder["trainer"] = Trainer(TrainConfig(device="cpu", **settings), fmnist, on_event=stop_after_epoch_1)
    stopped = holder["trainer"].run()
    assert stopped.status == "stopped" and stopped.epochs_run == 1
    return stopped


def test_a_background_resume_reads_last_pt_once(fmnist, tmp_path, counted):
    stopped = _stopped_after_epoch_1(fmnist, arch="linear", limit=600, epochs=2, batch_size=50)
    manager = JobManager(runs_root=tmp_path, data_loader=lambda: fmnist)
    counted["torch.load"].clear()
    job_id = manager.resume(stopped.run_dir, owner=None)
    job = manager.wait(job_id, timeout=60)
    assert job.state == "completed", job.error
    assert [e["epoch"] for e in job.epochs] == [1, 2]
    assert counted["torch.load"] == [str(stopped.run_dir / runs.STATE)]


def test_a_resumed_trainer_reads_last_pt_once(fmnist, counted):
    stopped = _stopped_after_epoch_1(fmnist, arch="linear", limit=600, epochs=2, batch_size=50)
    counted["torch.load"].clear()
    result = Trainer.resume(stopped.run_dir, fmnist).run()
    assert result.status == "completed" and result.epochs_run == 2
    assert counted["torch.load"] == [str(stopped.run_dir / runs.STATE)]


def test_the_end_of_a_run_writes_best_pt_once_without_reading_it(fmnist, counted):
    # half_checkpoint: the weights kept in memory are rounded as the file rounds them
    settings = dict(arch="mlp", limit=1500, epochs=3, batch_size=50, augment=True, test_time_flip=True)
    config = TrainConfig(device="cpu", half_checkpoint=True, **settings)
    result = Trainer(config, fmnist).run()
    improvements = sum(r["best"] for r in result.history)
    saves = counted["checkpoint.save"]
    assert counted["checkpoint.load"] == []
    assert [name for name, _ in saves] == [runs.BEST] * (improvements + 1)
    assert ["test_accuracy" in metrics for _, metrics in saves] == [False] * improvements + [True]
    best = checkpoint.load(result.checkpoint)
    assert best.metadata["dtype"] == "float16" and best.metadata["epochs_run"] == 3
    assert best.metadata["metrics"]["best_epoch"] == result.best_epoch
    assert best.metadata["metrics"]["test_accuracy"] == result.test_accuracy > 0.6
    # the accuracy recorded at the end is that of the weights in the file, predicted with test-time flip
    test = inference.metrics(best.model, fmnist.test_images, fmnist.test_labels, flip=True)
    assert test["accuracy"] == result.test_accuracy
    assert test["per_class_accuracy"][6] == best.metadata["metrics"]["test_shirt_accuracy"]


def test_a_resumed_run_that_does_not_improve_reads_best_pt_once_and_keeps_its_record(fmnist, counted):
    stopped = _stopped_after_epoch_1(fmnist, arch="linear", limit=600, epochs=2, batch_size=50)
    before = checkpoint.read_metadata(stopped.checkpoint)
    counted["checkpoint.load"].clear()
    counted["checkpoint.save"].clear()
    trainer = Trainer.resume(stopped.run_dir, fmnist)
    trainer.best["val_loss"] = float("-inf")  # no epoch of this session can beat it: best.pt stays epoch 1's
    result = trainer.run()
    assert result.status == "completed" and result.best_epoch == 1 and result.epochs_run == 2
    assert counted["checkpoint.load"] == [runs.BEST]
    assert [name for name, _ in counted["checkpoint.save"]] == [runs.BEST]
    after = checkpoint.read_metadata(stopped.checkpoint)
    assert after["metrics"]["best_epoch"] == 1 and after["metrics"]["test_accuracy"] == result.test_accuracy
    assert {k: after[k] for k in ("name", "run_id", "config", "device", "command")} == {
        k: before[k] for k in ("name", "run_id", "config", "device", "command")
    }
