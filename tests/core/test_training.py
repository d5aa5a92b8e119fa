"""Training on the real data: accuracy, early stopping, stop requests, divergence, resume."""

import threading

import pytest

from core.io import checkpoint, runs
from core.training.config import TrainConfig
from core.training.trainer import LOG_EVERY, Trainer
from tests.device import DEVICE


def _train(fmnist, on_event=None, **changes):
    config = TrainConfig(**{"device": DEVICE, **changes})
    trainer = Trainer(config, fmnist, on_event=on_event)
    return trainer, trainer.run()


def test_simple_cnn_on_5000_images_for_2_epochs_reaches_80_percent(fmnist):
    events = []
    _, result = _train(
        fmnist,
        events.append,
        arch="simple_cnn",
        limit=5000,
        epochs=2,
        batch_size=32,
        lr=4e-3,
        schedule="onecycle",
        arch_settings={"width": 4, "batch_norm": True},
    )
    assert result.status == "completed"
    assert result.test_accuracy >= 0.80
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "images_per_s", "elapsed", "eta"} <= set(
        epochs[0]
    )
    batches = [e for e in events if e["event"] == "batch"]
    assert len(batches) == 2 * 141 and batches[-1]["step"] == 282  # 4,500 images / 32 = 141 batches
    meta = checkpoint.read_metadata(result.checkpoint)
    assert meta["metrics"]["test_accuracy"] == pytest.approx(result.test_accuracy)
    assert meta["config"]["batch_size"] == 32
    assert len(runs.read_metrics(result.run_dir)) == 2


def test_early_stopping_stops_and_keeps_the_best_epoch(fmnist):
    _, result = _train(
        fmnist,
        arch="mlp",
        limit=300,
        epochs=40,
        lr=3e-3,
        batch_size=16,
        patience=2,
        val_fraction=0.3,
        arch_settings={"dropout": 0.0},
    )
    assert result.status == "early_stopped"
    assert result.epochs_run < 40
    assert result.best_epoch == result.epochs_run - 2
    assert checkpoint.read_metadata(result.checkpoint)["metrics"]["best_epoch"] == result.best_epoch


def test_stop_request_ends_within_one_batch_and_keeps_a_checkpoint(fmnist):
    seen = []
    holder = {}

    def on_event(event):
        seen.append(event)
        if event["event"] == "batch" and event["batch"] == LOG_EVERY:
            holder["trainer"].stop()

    config = TrainConfig(arch="simple_cnn", limit=3000, epochs=5, batch_size=32, device="cpu")
    holder["trainer"] = trainer = Trainer(config, fmnist, on_event=on_event)
    result = trainer.run()
    assert result.status == "stopped"
    assert max(e["batch"] for e in seen if e["event"] == "batch") == LOG_EVERY
    assert result.checkpoint.is_file()
    assert result.test_accuracy is not None


def test_stop_from_another_thread(fmnist):
    started = threading.Event()
    config = TrainConfig(arch="mlp", limit=20000, epochs=50, batch_size=64, device="cpu")
    trainer = Trainer(config, fmnist, on_event=lambda e: e["event"] == "epoch" and started.set())
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault("result", trainer.run()))
    worker.start()
    assert started.wait(60)
    trainer.stop()
    worker.join(10)
    assert not worker.is_alive()
    assert out["result"].status == "stopped" and out["result"].epochs_run < 50


def test_nan_loss_stops_with_a_learning_rate_hint(fmnist):
    _, result = _train(fmnist, arch="mlp", limit=2000, epochs=3, lr=10.0, optimizer="sgd", batch_size=64)
    assert result.status == "diverged"
    assert result.message.startswith("the loss became ")
    assert result.message.endswith("training diverged. Try a lower learning rate (now 10).")
    assert result.epochs_run == 0


def _stopped_after_first_epoch(fmnist, **changes):
    holder = {}

    def stop_after_epoch_1(event):
        if event["event"] == "epoch" and event["epoch"] == 1:
            holder["trainer"].stop()

    trainer = Trainer(TrainConfig(device=DEVICE, **changes), fmnist, on_event=stop_after_epoch_1)
    holder["trainer"] = trainer
    return trainer.run()


def test_a_run_stopped_after_epoch_1_and_resumed_to_3_equals_an_uninterrupted_run(fmnist):
    """Same seed, same batches, same dropout masks: the CPU loop is bit-reproducible, so the weights are equal."""
    import torch

    settings = dict(arch="mlp", limit=2000, epochs=3, batch_size=50, seed=5, schedule="onecycle", lr=3e-3)
    _, straight = _train(fmnist, **settings)
    stopped = _stopped_after_first_epoch(fmnist, **settings)
    assert stopped.status == "stopped" and stopped.epochs_run == 1
    trainer = Trainer.resume(stopped.run_dir, fmnist)
    assert trainer.start_epoch == 2 and trainer.config.epochs == 3
    resumed = trainer.run()
    assert resumed.status == "completed" and resumed.run_dir == stopped.run_dir
    assert [r["epoch"] for r in runs.read_metrics(resumed.run_dir)] == [1, 2, 3]
    assert resumed.epochs_run == 3
    a = torch.load(straight.run_dir / runs.STATE, weights_only=True)["model"]
    b = torch.load(resumed.run_dir / runs.STATE, weights_only=True)["model"]
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    assert resumed.test_accuracy == straight.test_accuracy


def test_resume_refuses_finished_and_missing_runs_in_one_line(fmnist, tmp_path):
    from core.base.errors import StudioError

    _, done = _train(fmnist, arch="linear", limit=500, epochs=1)
    with pytest.raises(StudioError, match=r"^cannot resume .*: it completed after 1 epoch; start a new run instead\.$"):
        Trainer.resume(done.run_dir, fmnist, epochs=3)
    with pytest.raises(StudioError, match=r"^cannot resume: no run folder at .*nowhere\.$"):
        Trainer.resume(tmp_path / "nowhere", fmnist)
    stopped = _stopped_after_first_epoch(fmnist, arch="linear", limit=500, epochs=3, schedule="cosine")
    with pytest.raises(StudioError, match="it has 1 epoch; ask for more than 1.$"):
        Trainer.resume(stopped.run_dir, fmnist, epochs=1)
    (stopped.run_dir / runs.STATE).unlink()
    with pytest.raises(StudioError, match=r"last.pt is missing \(no epoch was completed\)\.$"):
        Trainer.resume(stopped.run_dir, fmnist)


def test_a_scheduled_run_resumes_to_a_new_length_on_a_replanned_schedule(fmnist):
    stopped = _stopped_after_first_epoch(fmnist, arch="linear", limit=500, epochs=3, schedule="onecycle", lr=1e-2)
    resumed = Trainer.resume(stopped.run_dir, fmnist, epochs=5).run()
    assert resumed.status == "completed" and resumed.epochs_run == 5
    assert [r["epoch"] for r in runs.read_metrics(resumed.run_dir)] == [1, 2, 3, 4, 5]
    planned = Trainer(
        TrainConfig(device=DEVICE, arch="linear", limit=500, epochs=5, schedule="onecycle", lr=1e-2), fmnist
    ).run()
    lrs = [r["lr"] for r in resumed.history]
    assert lrs[1:] == pytest.approx([r["lr"] for r in planned.history][1:], rel=1e-6)  # as if planned for 5
    assert lrs[2] > 1e-3  # epoch 3 of 5: still mid-cycle (the 3-epoch plan ended there)


def test_a_last_batch_of_one_image_is_dropped_so_batch_norm_trains(fmnist):
    config = TrainConfig(
        device="cpu", arch="mlp", arch_settings={"batch_norm": True}, limit=129, val_fraction=0, batch_size=64, epochs=1
    )
    result = Trainer(config, fmnist).run()
    assert result.status == "completed" and result.epochs_run == 1
