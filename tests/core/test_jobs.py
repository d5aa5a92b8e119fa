"""JobManager: real short trainings in threads, the cap and its FIFO queue, stop, owners, failures."""

import time
from pathlib import Path

import pytest
import torch

from core.base.errors import StudioError
from core.serving import jobs
from core.serving.jobs import JobManager
from core.training.config import TrainConfig


@pytest.fixture(scope="module")
def data(fmnist):
    return fmnist


def quick(**kw) -> TrainConfig:
    return TrainConfig(**{"arch": "mlp", "epochs": 1, "limit": 2000, "batch_size": 128, **kw})


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_a_short_training_completes_with_its_events(data, tmp_path):
    manager = JobManager(runs_root=tmp_path)
    job_id = manager.submit(quick(), data, owner="alice", name="tiny mlp")
    job = manager.wait(job_id, timeout=120)
    assert job.state == "completed" and job.error is None
    assert job.info["train_size"] + job.info["val_size"] == 2000 and 190 <= job.info["val_size"] <= 210
    assert job.info["steps_per_epoch"] == 15
    assert [b["step"] for b in job.batches] == list(range(1, 16))
    assert all(b["loss"] > 0 for b in job.batches)
    assert len(job.epochs) == 1 and job.epochs[0]["epoch"] == 1
    assert job.progress == 1.0 and job.eta_seconds() is None
    assert 0.3 < job.result["test_accuracy"] <= 1.0  # better than chance (0.1) after one epoch
    run = Path(job.run_dir)
    assert run.parent == tmp_path and (run / "best.safetensors").is_file() and (run / "summary.json").is_file()
    assert job.started >= job.created and job.finished >= job.started


def test_cap_queues_jobs_in_order_and_cancelling_a_queued_job(data, tmp_path):
    manager = JobManager(max_concurrent=1, runs_root=tmp_path)
    first = manager.submit(quick(limit=20000, batch_size=32), data, owner="a")
    second = manager.submit(quick(), data, owner="b")
    third = manager.submit(quick(), data, owner="c")
    assert manager.snapshot(first).state == "running" and manager.snapshot(first).queue_position is None
    assert (manager.snapshot(second).state, manager.snapshot(second).queue_position) == ("queued", 1)
    assert (manager.snapshot(third).state, manager.snapshot(third).queue_position) == ("queued", 2)

    assert manager.stop(second)
    cancelled = manager.snapshot(second)
    assert cancelled.state == "stopped" and cancelled.message == "cancelled before it started"
    assert cancelled.run_dir is None
    assert manager.snapshot(third).queue_position == 1

    manager.stop(first)
    assert manager.wait(first, timeout=60).state == "stopped"
    assert wait_for(lambda: manager.snapshot(third).state != "queued")
    assert manager.wait(third, timeout=120).state == "completed"
    assert not manager.stop(third)  # already finished


def test_stop_ends_a_running_training_within_a_batch_and_keeps_the_best_checkpoint(data, tmp_path):
    manager = JobManager(runs_root=tmp_path)
    job_id = manager.submit(quick(limit=30000, batch_size=32, epochs=3), data, owner="a")
    assert wait_for(lambda: manager.snapshot(job_id).batches)
    asked = time.monotonic()
    assert manager.stop(job_id)
    job = manager.wait(job_id, timeout=60)
    assert job.state == "stopped" and "stopped by request during epoch 1" in job.message
    total = job.info["steps_per_epoch"] * 3
    assert job.last_batch["step"] < total / 3  # far from the end of even the first epoch
    assert time.monotonic() - asked < 30  # one batch + the test-set evaluation
    assert job.epochs and job.epochs[0].get("partial") is True
    assert (Path(job.run_dir) / "best.safetensors").is_file()
    assert job.result["test_accuracy"] is not None


def test_owners_see_only_their_jobs_and_cannot_stop_others(data, tmp_path):
    manager = JobManager(max_concurrent=1, runs_root=tmp_path)
    mine = manager.submit(quick(), data, owner="me")
    theirs = manager.submit(quick(), data, owner="them")
    assert [j.id for j in manager.jobs(owner="me")] == [mine]
    assert [j.id for j in manager.jobs(owner="them")] == [theirs]
    assert {j.id for j in manager.jobs()} == {mine, theirs}
    with pytest.raises(StudioError, match="another session"):
        manager.stop(theirs, owner="me")
    assert manager.snapshot(theirs).state == "queued"
    assert not hasattr(manager, "claim")  # nobody can take a job over
    assert manager.stop(theirs, owner="them")
    manager.stop(mine, owner="me")
    manager.wait(mine, timeout=60)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_studio_error_is_the_failure_message(data, tmp_path):
    manager = JobManager(runs_root=tmp_path)
    job = manager.wait(manager.submit(quick(device="cuda"), data, owner="a"), timeout=30)
    assert job.state == "failed"
    assert job.error == job.message
    assert job.error.startswith("device 'cuda' requested but no CUDA GPU is available")


def test_an_unexpected_exception_is_summarised_in_one_line(tmp_path):
    manager = JobManager(runs_root=tmp_path)
    job = manager.wait(manager.submit(quick(), None, owner="a"), timeout=30)
    assert job.state == "failed"
    assert job.error.startswith("training failed unexpectedly (AttributeError:")
    assert "\n" not in job.error and "Traceback" not in job.error
    # the slot was released: the next job starts
    later = manager.submit(quick(), None, owner="a")
    assert manager.wait(later, timeout=30).state == "failed"


def test_invalid_config_is_refused_at_submit(tmp_path):
    manager = JobManager(runs_root=tmp_path)
    with pytest.raises(StudioError, match="learning rate"):
        manager.submit(quick(lr=-1.0), None, owner="a")
    assert manager.jobs() == []


def test_cap_from_environment(monkeypatch):
    monkeypatch.setenv("FMNIST_MAX_TRAININGS", "3")
    assert JobManager().max_concurrent == 3
    monkeypatch.setenv("FMNIST_MAX_TRAININGS", "lots")
    assert JobManager().max_concurrent == 1
    monkeypatch.delenv("FMNIST_MAX_TRAININGS")
    assert JobManager().max_concurrent == 1
    assert JobManager(max_concurrent=2).max_concurrent == 2


def test_batch_losses_are_thinned_when_there_are_too_many(monkeypatch):
    monkeypatch.setattr(jobs, "MAX_BATCH_POINTS", 100)
    manager = JobManager()
    job = jobs.Job(id="j", owner="a", config=quick(), state="running")
    manager._jobs["j"] = job
    for step in range(1, 1001):
        manager._on_event(
            "j",
            {"event": "batch", "step": step, "epoch": 1, "batch": step, "batches": 1000, "loss": 1.0 / step, "lr": 0.1},
        )
    steps = [b["step"] for b in job.batches]
    assert len(steps) <= 100 and steps[0] == job.batch_stride and steps[-1] == 1000 - 1000 % job.batch_stride
    assert steps == sorted(steps) and len(set(s % job.batch_stride for s in steps)) == 1
    assert job.last_batch["step"] == 1000 and job.progress == 1.0


def test_eta_after_a_resume_counts_only_this_sessions_pace():
    """Resumed at epoch 8 of 50: the 7 epochs done earlier must not make the rest look quick."""
    job = jobs.Job(id="j", owner="a", config=quick(epochs=50), state="running", started=1000.0)
    job.info = {"start_epoch": 8}
    job.last_batch = {"step": 900, "epoch": 9, "batch": 100, "batches": 100, "loss": 0.3}
    assert job.progress == pytest.approx(0.18)
    # 2 epochs (0.04 of the work) in 60 s: the 41 epochs left take 41 x 30 s
    assert job.eta_seconds(now=1060.0) == pytest.approx(41 * 30)
    job.info = {"start_epoch": 1}  # a fresh run: the same progress in 60 s is all this session's work
    assert job.eta_seconds(now=1060.0) == pytest.approx(60 / 0.18 * 0.82)
    job.info, job.last_batch = {"start_epoch": 10}, {**job.last_batch, "epoch": 9}  # nothing done yet here
    assert job.eta_seconds(now=1060.0) is None
    assert jobs.seconds_left(10.0, 0.5, 0.25) == pytest.approx(20.0)
