"""A training that no node of the cluster can hold fails at once with one line; one that finds the cluster busy
waits and says so; the cluster shrinking under a waiting one ends it; a stop cancels it while it waits.

The manager's side runs on a pretend cluster (tests/core/cluster_stub.py); tests/core/test_ray_jobs.py asks a
real Ray the same.
"""

import json
import time

import pytest

from core.serving import job_events
from core.serving.cluster_fit import fits_now, request_of, unfit
from core.serving.shared_jobs import SharedJobManager
from core.training.config import TrainConfig
from tests.core.cluster_stub import NO_GPU_NODE, ClusterStub

ALICE = "alice-secret-0123456789"
NO_GPU = "No machine in the Ray cluster has 1 GPU for a training (the cluster has 0 GPUs; set FMNIST_GPUS_PER_TRAINING=0 or add a GPU node)."


def test_a_request_counts_what_ray_counts():
    assert request_of(2, 0, {}) == {"CPU": 2.0}
    assert request_of(1, 0.25, {"gpu_node": 1}) == {"CPU": 1.0, "GPU": 0.25, "gpu_node": 1.0}


def test_a_request_no_node_can_hold_is_one_line_that_says_what_to_change():
    two_cpus, one_gpu = {"CPU": 2.0, "memory": 1e9}, {"CPU": 8.0, "GPU": 1.0}
    assert unfit({"CPU": 1.0, "GPU": 1.0}, [two_cpus]) == NO_GPU
    assert unfit({"CPU": 1.0, "GPU": 1.0}, [two_cpus, one_gpu]) is None
    assert unfit({"CPU": 1.0, "GPU": 0.25}, [one_gpu]) is None  # a quarter of a GPU fits a node with one
    assert unfit({"CPU": 4.0}, [two_cpus]) == (
        "No machine in the Ray cluster has 4 CPUs for a training (its largest node has 2 CPUs; set "
        "FMNIST_CPUS_PER_TRAINING=2 or less, or add a node with 4 CPUs)."
    )
    assert unfit({"CPU": 1.0, "GPU": 2.0}, [two_cpus, one_gpu]) == (
        "No machine in the Ray cluster has 2 GPUs for a training (its largest node has 1 GPU; set "
        "FMNIST_GPUS_PER_TRAINING=1 or less, or add a node with 2 GPUs)."
    )
    assert unfit({"CPU": 4.0, "GPU": 1.0}, [{"CPU": 4.0}, {"CPU": 2.0, "GPU": 1.0}]) == (
        "No machine in the Ray cluster has 4 CPUs and 1 GPU together for a training (no node has all of them; "
        "lower FMNIST_CPUS_PER_TRAINING or FMNIST_GPUS_PER_TRAINING, or add such a node)."
    )
    assert unfit({"CPU": 1.0, "gpu_node": 1.0}, [two_cpus]) == (
        'No machine in the Ray cluster has 1 of "gpu_node" for a training (the cluster has no "gpu_node" '
        "resource; remove it from FMNIST_RAY_RESOURCES or add a node that has it)."
    )
    assert (
        unfit({"CPU": 1.0}, [])
        == "No machine in the Ray cluster has 1 CPU for a training (the cluster has no live node)."
    )


def test_room_now_needs_one_node_with_all_of_the_request_free():
    assert fits_now({"CPU": 1.0}, [{"CPU": 0.0}, {"CPU": 1.0}])
    assert not fits_now({"CPU": 2.0}, [{"CPU": 1.0}, {"CPU": 1.0}])  # free in all, but not on one node
    assert not fits_now({"CPU": 1.0}, [{}])


def quick(**kw) -> TrainConfig:
    return TrainConfig(**{"arch": "mlp", "epochs": 1, "limit": 2000, "batch_size": 128, **kw})


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def cluster(tmp_path, fmnist):
    """A server (max 1 training at a time) on a pretend cluster of one node with 2 CPUs and no GPU."""
    stub = ClusterStub(lambda: fmnist)
    manager = SharedJobManager(stub, runs_root=tmp_path, poll=0.05, max_concurrent=1)
    yield manager, stub
    for job in manager.jobs():
        if job.active:
            manager.stop(job.id)
    for job in manager.jobs():
        manager.wait(job.id, timeout=60)
    manager.close()


def record(tmp_path, job_id) -> dict:
    return json.loads((tmp_path / ".jobs" / f"{job_id}.json").read_text())


def run_folders(tmp_path) -> list:
    return [p.name for p in tmp_path.iterdir() if p.name != ".jobs"]


def test_a_training_no_node_can_hold_fails_at_once_and_the_queue_moves_on(cluster, tmp_path):
    manager, stub = cluster
    gpu = manager.submit(quick(), None, owner=ALICE, name="on a gpu")
    after = manager.submit(quick(), None, owner=ALICE, name="on the cpu")
    failed = manager.wait(gpu, timeout=10)
    assert (failed.state, failed.error, failed.message) == ("failed", NO_GPU, NO_GPU)
    assert record(tmp_path, gpu)["state"] == "failed" and record(tmp_path, gpu)["error"] == NO_GPU
    assert manager.wait(after, timeout=120).state == "completed"
    assert stub.asked == [{"CPU": 1.0, "GPU": 1.0}, {"CPU": 1.0}]
    assert len(run_folders(tmp_path)) == 1  # the refused one wrote nothing


def test_a_training_that_finds_the_cluster_busy_says_it_waits_then_starts_when_a_node_has_room(cluster, tmp_path):
    manager, stub = cluster
    stub.free = [{"CPU": 0.0}]  # all of it taken by work of others
    job_id = manager.submit(quick(), None, owner=ALICE)
    assert wait_for(lambda: manager.snapshot(job_id).message == job_events.WAITING)
    assert manager.snapshot(job_id).state == "running" and record(tmp_path, job_id)["message"] == job_events.WAITING
    time.sleep(0.5)  # several looks at the cluster: it goes on waiting, and nothing is written
    assert manager.snapshot(job_id).message == job_events.WAITING and run_folders(tmp_path) == []
    stub.free = [NO_GPU_NODE]
    assert wait_for(lambda: manager.snapshot(job_id).batches)  # its worker started: the note is gone
    assert manager.snapshot(job_id).message == "" and record(tmp_path, job_id)["message"] == ""
    assert manager.wait(job_id, timeout=120).state == "completed"


def test_a_waiting_training_fails_with_one_line_when_the_cluster_shrinks(cluster, tmp_path):
    manager, stub = cluster
    stub.nodes = stub.free = [{"CPU": 2.0, "GPU": 1.0}]
    stub.free = [{"CPU": 2.0, "GPU": 0.0}]  # its GPU is busy
    job_id = manager.submit(quick(), None, owner=ALICE, name="on a gpu")
    assert wait_for(lambda: manager.snapshot(job_id).message == job_events.WAITING)
    stub.nodes = [NO_GPU_NODE]  # the GPU node left the cluster
    job = manager.wait(job_id, timeout=10)
    assert (job.state, job.error) == ("failed", NO_GPU) and run_folders(tmp_path) == []


def test_a_stop_cancels_a_waiting_training_within_a_second(cluster, tmp_path):
    manager, stub = cluster
    stub.free = [{"CPU": 0.0}]
    job_id = manager.submit(quick(), None, owner=ALICE)
    assert wait_for(lambda: manager.snapshot(job_id).message == job_events.WAITING)
    asked = time.monotonic()
    assert manager.stop(job_id, owner=ALICE)
    job = manager.wait(job_id, timeout=10)
    assert time.monotonic() - asked < 1.0
    assert (job.state, job.message) == ("stopped", "cancelled before it started")
    assert stub.waiting == {} and run_folders(tmp_path) == []
