"""SharedJobManager: the job list in the runs folder, shared by several servers; workers report through files.

These run the workers in threads of the test process (InProcessExecutor) to be quick; tests/core/test_ray_jobs.py
runs the same through Ray.
"""

import json
import time
from pathlib import Path

import pytest

from core.base.errors import StudioError
from core.io import runs
from core.serving import job_events, shared_jobs
from core.serving.jobs import JobManager
from core.serving.shared_jobs import InProcessExecutor, SharedJobManager
from core.training.config import TrainConfig

ALICE, BOB = "alice-secret-0123456789", "bob-secret-0123456789ab"


def quick(**kw) -> TrainConfig:
    return TrainConfig(**{"arch": "mlp", "epochs": 1, "limit": 2000, "batch_size": 128, **kw})


def slow(**kw) -> TrainConfig:
    """Long enough to be stopped while it trains (~800 batches an epoch)."""
    return quick(limit=30000, batch_size=32, epochs=3, **kw)


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def servers(tmp_path, fmnist):
    """Make managers ("servers") on the runs folder tmp_path; each is closed at the end."""
    made = []

    def make(**kw) -> SharedJobManager:
        manager = SharedJobManager(InProcessExecutor(lambda: fmnist), runs_root=tmp_path, poll=0.1, **kw)
        made.append(manager)
        return manager

    yield make
    for manager in made:
        for job in manager.jobs():
            if job.active:
                manager.stop(job.id)
    for manager in made:
        for job in manager.jobs():
            manager.wait(job.id, timeout=60)
        manager.close()


def test_a_training_reports_through_the_runs_folder(servers, tmp_path):
    manager = servers()
    job_id = manager.submit(quick(), None, owner=ALICE, name="tiny mlp")
    job = manager.wait(job_id, timeout=120)
    assert job.state == "completed" and job.error is None
    assert job.info["steps_per_epoch"] == 15 and [b["step"] for b in job.batches] == list(range(1, 16))
    assert len(job.epochs) == 1 and 0.3 < job.result["test_accuracy"] <= 1.0
    assert manager.worker(job_id)["pid"] > 0
    path = tmp_path / ".jobs" / f"{job_id}.json"
    assert wait_for(lambda: json.loads(path.read_text())["state"] != "running", timeout=5)  # the worker's last word
    record = json.loads(path.read_text())
    assert (record["state"], record["message"], record["run_dir"]) == ("completed", "completed 1 epochs", job.run_dir)
    assert record["finished"] >= record["started"] >= record["created"]
    events = runs.read_jsonl(job_events.events_path(tmp_path, job_id, job.started))
    assert [e["event"] for e in events][:2] == ["worker", "start"] and events[-1]["event"] == "end"
    assert sum(e["event"] == "batch" for e in events) == 15


def test_two_servers_list_the_same_trainings_and_either_stops_one(servers):
    a, b = servers(max_concurrent=1), servers(max_concurrent=1)
    first = a.submit(slow(), None, owner=ALICE, name="first")
    second = a.submit(quick(), None, owner=ALICE, name="second")
    third = b.submit(quick(), None, owner=BOB, name="third")
    assert wait_for(lambda: b.snapshot(first) is not None and b.snapshot(first).batches)
    for server in (a, b):
        listed = {j.name: (j.state, j.queue_position) for j in server.jobs()}
        assert listed == {"first": ("running", None), "second": ("queued", 1), "third": ("queued", 2)}
    assert [j.name for j in b.jobs(owner=ALICE)] == ["second", "first"]

    with pytest.raises(StudioError, match=f"^training {first} belongs to another session\\.$"):
        b.stop(first, owner=BOB)
    assert b.stop(second, owner=ALICE)  # cancelled from the other server
    assert a.wait(second, timeout=5).message == "cancelled before it started"
    asked = time.monotonic()
    assert b.stop(first, owner=ALICE)
    assert wait_for(lambda: a.snapshot(first).message == "stopping…", timeout=2)
    stopped = a.wait(first, timeout=60)
    took = time.monotonic() - asked
    assert stopped.state == "stopped" and stopped.message == "stopped by request during epoch 1"
    assert stopped.last_batch["step"] < stopped.info["steps_per_epoch"] / 2
    assert took < 30, took  # the stop itself (<1 s) plus the test-set evaluation of the best checkpoint
    assert (Path(stopped.run_dir) / runs.BEST).is_file()
    assert b.wait(third, timeout=120).state == "completed"  # the queue went on, in order
    assert a.snapshot(third).state == "completed"


def test_the_cap_counts_the_trainings_of_every_server(servers):
    a, b = servers(max_concurrent=1), servers(max_concurrent=1)
    running = a.submit(slow(), None, owner=ALICE)
    assert wait_for(lambda: b.snapshot(running) is not None and b.snapshot(running).state == "running")
    waiting = b.submit(quick(), None, owner=BOB)
    time.sleep(1.0)  # several rounds of both monitors
    assert (b.snapshot(waiting).state, b.snapshot(waiting).queue_position) == ("queued", 1)
    assert a.snapshot(waiting).state == "queued"
    a.stop(running)
    assert b.wait(waiting, timeout=120).state == "completed"


def test_a_restarted_server_follows_a_running_training_to_its_end(servers):
    old = servers()
    job_id = old.submit(quick(limit=20000, batch_size=64, epochs=2), None, owner=ALICE)
    assert wait_for(lambda: old.snapshot(job_id).batches)
    old.close()  # the server stops; its training goes on (here: in a thread of this process)
    new = servers()
    job = new.snapshot(job_id)
    assert job.state == "running" and job.batches and job.info["steps_per_epoch"] == 282
    done = new.wait(job_id, timeout=180)
    assert done.state == "completed" and [e["epoch"] for e in done.epochs] == [1, 2]
    assert done.result["epochs_run"] == 2 and new.owns(done, ALICE)


def test_a_stopped_run_resumes_to_its_planned_epochs_from_another_server(servers):
    a, b = servers(), servers()
    job_id = a.submit(TrainConfig(arch="mlp", epochs=3, limit=3000, batch_size=50, seed=1), None, owner=ALICE)
    assert wait_for(lambda: a.snapshot(job_id).epochs)
    a.stop(job_id, owner=ALICE)
    stopped = a.wait(job_id, timeout=60)
    assert stopped.state == "stopped"
    assert wait_for(lambda: b.snapshot(job_id).state == "stopped", timeout=5)
    with pytest.raises(StudioError, match=r"belongs to another session"):
        b.resume(stopped.run_dir, owner=BOB)
    assert b.resume(stopped.run_dir, owner=ALICE) == job_id
    done = a.wait(job_id, timeout=120)
    assert done.state == "completed", done.error
    assert [e["epoch"] for e in done.epochs] == [1, 2, 3] and done.info["start_epoch"] >= 2
    assert [m["epoch"] for m in runs.read_metrics(done.run_dir)] == [1, 2, 3]


class WorkersElsewhere:
    """An executor whose workers live elsewhere: starts nothing; `alive` says whether they still run (False: gone,
    as after a machine left the cluster)."""

    def __init__(self, alive: bool):
        self._alive = alive

    def start(self, spec):
        pass

    def alive(self, job_id, started, runs_root=None):
        return self._alive


def test_a_training_whose_worker_is_gone_fails_with_one_line(tmp_path, fmnist):
    run = tmp_path / "20260101-000000-mlp-abcdef"
    run.mkdir()
    runs.append_metrics(run, {"epoch": 1, "val_loss": 0.5})
    (run / runs.BEST).write_bytes(b"weights")
    record = {
        "id": "job-0000beef",
        "owner": "d",
        "teacher": False,
        "name": None,
        "state": "running",
        "created": 1.0,
        "started": 2.0,
        "finished": None,
        "run_dir": str(run),
        "message": "",
        "error": None,
        "config": quick(epochs=3).to_dict(),
    }
    (tmp_path / ".jobs").mkdir()
    (tmp_path / ".jobs" / "job-0000beef.json").write_text(json.dumps(record))
    job_events.events_path(tmp_path, "job-0000beef", 2.0).write_text('{"event": "worker", "pid": 1}\n')
    manager = SharedJobManager(WorkersElsewhere(alive=False), runs_root=tmp_path, poll=0.1)
    try:
        job = manager.wait("job-0000beef", timeout=10)
    finally:
        manager.close()
    assert job.state == "failed"
    assert job.error == (
        "training failed: its worker stopped unexpectedly (the process was killed or its machine left the cluster) "
        "after 1 finished epoch; the best checkpoint so far is kept."
    )
    assert (run / runs.BEST).is_file()


def test_a_training_that_ended_elsewhere_shows_ended_only_with_its_result(tmp_path, monkeypatch):
    """A worker writes its last events, then its record's end; a server that reads both in one look never shows
    the training ended without its result, whichever it reads first."""
    run = tmp_path / "20260101-000000-mlp-abcdef"
    run.mkdir()
    record = {
        "id": "job-0000cafe", "owner": "d", "teacher": False, "name": None, "state": "running", "created": 1.0,
        "started": 2.0, "finished": None, "run_dir": str(run), "message": "", "error": None,
        "config": quick().to_dict(),
    }  # fmt: skip
    (tmp_path / ".jobs").mkdir()
    path = tmp_path / ".jobs" / "job-0000cafe.json"
    path.write_text(json.dumps(record))
    events = job_events.events_path(tmp_path, "job-0000cafe", 2.0)
    events.write_text(
        json.dumps({"event": "worker", "pid": 1}) + "\n" + json.dumps({"event": "start", "run_dir": str(run)}) + "\n"
    )
    seen = []
    read = job_events.EventReader.read

    def read_and_look(reader):
        job = manager.snapshot("job-0000cafe")
        seen.append((job.state, job.result))
        return read(reader)

    manager = SharedJobManager(WorkersElsewhere(alive=True), runs_root=tmp_path, poll=60)  # it looks when the test asks
    monkeypatch.setattr(job_events.EventReader, "read", read_and_look)
    try:
        assert manager.snapshot("job-0000cafe").state == "running"
        with events.open("a") as f:  # the worker's last words, in its order
            f.write('{"event": "end", "status": "completed", "message": "completed 1 epochs", "test_accuracy": 0.8}\n')
        path.write_text(json.dumps({**record, "state": "completed", "finished": 3.0, "message": "completed 1 epochs"}))
        job = manager.wait("job-0000cafe", timeout=10)
    finally:
        manager.close()
    assert (job.state, job.message, job.result["test_accuracy"]) == ("completed", "completed 1 epochs", 0.8)
    assert seen and all(state == "running" and result is None for state, result in seen)


def test_the_server_picks_its_executor_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FMNIST_TRAINING_EXECUTOR", "thread")
    assert type(shared_jobs.server_jobs()) is JobManager
    monkeypatch.setenv("FMNIST_TRAINING_EXECUTOR", "threads")
    with pytest.raises(StudioError, match=r"^FMNIST_TRAINING_EXECUTOR must be one of: ray, thread, got 'threads'\.$"):
        shared_jobs.server_jobs()
    monkeypatch.delenv("FMNIST_TRAINING_EXECUTOR")
    manager = shared_jobs.server_jobs()  # Ray by default; nothing of Ray starts before a training
    try:
        from core.serving.ray_runner import RayExecutor

        assert isinstance(manager, SharedJobManager) and isinstance(manager.executor, RayExecutor)
        assert manager.jobs() == []
    finally:
        manager.close()
