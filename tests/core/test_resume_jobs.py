"""Continuing a stopped run in the background: JobManager.resume and its one-line refusals."""

import time

import pytest

from core.base.errors import StudioError
from core.io import runs
from core.serving.jobs import JobManager
from core.training.config import TrainConfig


def _stopped_run(manager, fmnist, epochs=3):
    job_id = manager.submit(
        TrainConfig(arch="mlp", epochs=epochs, limit=3000, batch_size=50, seed=1), fmnist, owner="alice"
    )
    deadline = time.monotonic() + 60
    while not (manager.snapshot(job_id).epochs or time.monotonic() > deadline):
        time.sleep(0.02)
    manager.stop(job_id, owner="alice")
    job = manager.wait(job_id, timeout=60)
    assert job.state == "stopped" and len(job.epochs) >= 1
    return job


def test_a_stopped_run_continues_to_its_planned_epochs(fmnist, tmp_path):
    manager = JobManager(runs_root=tmp_path)
    stopped = _stopped_run(manager, fmnist)
    done = len(runs.read_metrics(stopped.run_dir))
    with pytest.raises(StudioError, match=r"^training \S+ belongs to another session\.$"):
        manager.resume(stopped.run_dir, owner="bob")  # only its owner (or the teacher)
    job_id = manager.resume(stopped.run_dir, owner="alice")
    queued = manager.snapshot(job_id)
    assert manager.owns(queued, "alice") and queued.config.epochs == 3 and len(queued.epochs) == done
    with pytest.raises(StudioError, match=r"^training \S+ is already (queued|running)\.$"):
        manager.resume(stopped.run_dir, owner="alice")
    job = manager.wait(job_id, timeout=120)
    assert job.state == "completed", job.error
    assert [e["epoch"] for e in job.epochs] == [1, 2, 3]  # the curves go on where they stopped
    assert [r["epoch"] for r in runs.read_metrics(stopped.run_dir)] == [1, 2, 3]
    assert runs.read_json(stopped.run_dir + "/" + runs.SUMMARY)["status"] == "completed"
    with pytest.raises(
        StudioError, match=r"^cannot resume \S+: it completed after 3 epochs; start a new run instead\.$"
    ):
        manager.resume(stopped.run_dir, owner="alice")


def test_missing_files_are_refused_before_anything_is_queued(tmp_path):
    manager = JobManager(runs_root=tmp_path)
    (tmp_path / "half").mkdir()
    with pytest.raises(StudioError, match=r"^cannot resume half: last.pt is missing \(no epoch was completed\)\.$"):
        manager.resume(tmp_path / "half", owner="alice")
    with pytest.raises(StudioError, match=r"^cannot resume: no run folder at "):
        manager.resume(tmp_path / "gone", owner="alice")
    assert manager.jobs() == []


def test_the_command_line_refuses_to_resume_a_finished_run_in_one_line(fmnist, data_dir, tmp_path, capsys):
    from core.cli import train
    from core.training.trainer import Trainer

    done = Trainer(TrainConfig(arch="linear", epochs=1, limit=500, device="cpu"), fmnist, runs_root=tmp_path).run()
    assert train.main(["--resume", str(done.run_dir), "--epochs", "3", "--data-dir", data_dir]) == 2
    err = capsys.readouterr().err
    assert err == f"error: cannot resume {done.run_dir.name}: it completed after 1 epoch; start a new run instead.\n"
    assert train.main(["--resume", str(tmp_path / "missing"), "--data-dir", data_dir]) == 2
    assert capsys.readouterr().err == f"error: cannot resume: no run folder at {tmp_path / 'missing'}.\n"
