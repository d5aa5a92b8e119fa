"""Train page, trainings on a cluster: one that waits for room says so under its bar; one that no node of the
cluster can hold shows the one line of why it failed.

The server's jobs run on a pretend cluster (tests/core/cluster_stub.py) with one node of 2 CPUs and no GPU,
all of it busy; tests/core/test_ray_jobs.py asks a real Ray the same.
"""

import time

import pytest

from core.serving import job_events
from core.serving.shared_jobs import SharedJobManager
from core.training.config import TrainConfig
from dashboard.train import training
from tests.core.cluster_stub import ClusterStub
from tests.dashboard.studio_app import forget_caches, open_page

OTHER = "another-browser-secret-0123"


@pytest.fixture
def busy_cluster(monkeypatch, data_dir, tmp_path, fmnist):
    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path))
    forget_caches()
    manager = SharedJobManager(ClusterStub(lambda: fmnist, free=[{"CPU": 0.0}]), runs_root=tmp_path, poll=0.05)
    monkeypatch.setattr(training, "manager", lambda: manager)
    yield manager
    for job in manager.jobs():
        if job.active:
            manager.stop(job.id)
        manager.wait(job.id, timeout=30)
    manager.close()
    forget_caches()


def settled(manager, job_id, until) -> None:
    deadline = time.monotonic() + 10
    while not until(manager.snapshot(job_id)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert until(manager.snapshot(job_id)), manager.snapshot(job_id)


def test_a_training_waiting_for_room_on_the_cluster_says_so(busy_cluster):
    job_id = busy_cluster.submit(TrainConfig(arch="mlp", limit=2000, epochs=1), None, owner=OTHER, name="waits")
    settled(busy_cluster, job_id, lambda job: job.message == job_events.WAITING)
    at = open_page("views/train.py")
    assert at.selectbox(key="train_show").value == job_id
    assert next(m.value for m in at.markdown if m.value.startswith("**waits**")) == "**waits** — running"
    [bar] = at.get("progress")
    assert (bar.text, bar.value) == ("Waiting for a free slot on the cluster…", 0)
    assert not at.error and not at.exception


def test_a_training_no_node_can_hold_shows_why_it_failed_in_one_line(busy_cluster):
    job_id = busy_cluster.submit(TrainConfig(arch="mlp", limit=2000, epochs=1), None, owner=OTHER, name="on a gpu")
    settled(busy_cluster, job_id, lambda job: job.state == "failed")
    at = open_page("views/train.py")
    assert at.selectbox(key="train_show").value == job_id
    assert [e.value for e in at.error] == [
        "Training failed: No machine in the Ray cluster has 1 GPU for a training (the cluster has 0 GPUs; "
        "set FMNIST_GPUS_PER_TRAINING=0 or add a GPU node)."
    ]
    assert not at.get("progress") and not at.exception
