"""Trainings on Ray: the local default, two servers on one Ray, a restarted server, a killed worker, a two-node
cluster, a training no node can hold, one that waits for room, one whose node leaves while it waits. The module's first training starts the studio's local Ray (loopback only); the module ends it.

Marked `ray` (`pytest -m "not ray"` leaves them out): they start real Ray processes, about two minutes in all.
"""

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.cli import cluster, sweep
from core.io import runs
from core.serving import job_events, ray_runner
from core.serving.ray_runner import NAMESPACE, RayExecutor, RaySettings
from core.serving.shared_jobs import LOST, SharedJobManager
from core.training.config import TrainConfig

pytestmark = pytest.mark.ray

ROOT = Path(__file__).resolve().parents[2]
ALICE, BOB = "alice-secret-0123456789", "bob-secret-0123456789ab"
FIRST_START_S = 300  # the first training starts Ray itself; a busy 2-core machine takes long


def quick(**kw) -> TrainConfig:
    return TrainConfig(**{"arch": "mlp", "epochs": 1, "limit": 2000, "batch_size": 128, **kw})


def slow(**kw) -> TrainConfig:
    return TrainConfig(**{"arch": "mlp", "epochs": 3, "limit": 30000, "batch_size": 32, **kw})


def wait_for(predicate, timeout=60.0, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


@pytest.fixture(scope="module")
def ray_home(tmp_path_factory):
    """The runs folder whose local Ray the module uses; that Ray is ended (by process id) at the end."""
    home = tmp_path_factory.mktemp("ray-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FMNIST_RAY_IDLE_MINUTES", "60")  # its servers here use other runs folders: none shows there
        yield home
    ray_runner.stop_local_head(home)
    assert ray_runner.local_head_info(home) is None


@pytest.fixture
def on_module_ray(ray_home, monkeypatch):
    """Servers of this test connect to the module's local Ray by its address (started here if need be), as to
    a cluster's; that Ray checks Ray's token."""
    monkeypatch.setenv("FMNIST_RAY_ADDRESS", ray_runner.local_head(ray_home))
    monkeypatch.setenv("RAY_AUTH_MODE", "token")


@pytest.fixture
def servers(tmp_path):
    made = []

    def make(root=tmp_path, executor=None, **kw) -> SharedJobManager:
        manager = SharedJobManager(executor or RayExecutor(), runs_root=root, poll=0.1, **kw)
        made.append(manager)
        return manager

    yield make
    for manager in made:
        for job in manager.jobs():
            if job.active:
                manager.stop(job.id)
        for job in manager.jobs():
            manager.wait(job.id, timeout=60)
        manager.close()


def test_the_first_training_starts_the_local_ray_and_runs_in_its_worker(ray_home, servers, monkeypatch, capsys):
    monkeypatch.delenv("FMNIST_RAY_ADDRESS", raising=False)
    manager = servers(ray_home)
    assert manager.jobs() == [] and ray_runner.local_head_info(ray_home) is None  # nothing at start-up
    asked = time.monotonic()
    job_id = manager.submit(slow(), None, owner=ALICE)
    assert wait_for(lambda: manager.snapshot(job_id).batches, timeout=FIRST_START_S)
    print(f"\nfirst training's first batch {time.monotonic() - asked:.1f} s after Start (Ray started)")
    head = ray_runner.local_head_info(ray_home)
    assert head["running"] and head["address"].startswith("127.0.0.1:") and head["cpus"] == ray_runner.local_cores()
    assert cluster.main(["status", "--out", str(ray_home)]) == 0
    status = capsys.readouterr().out.splitlines()[-1]
    assert status.startswith(f"local Ray at {head['address']} ({head['cpus']} CPUs): ")
    print(status)
    worker = manager.worker(job_id)
    assert worker["pid"] != os.getpid() and worker["pid"] in ray_runner.local_head_info(ray_home)["processes"]
    assert wait_for(lambda: len(manager.snapshot(job_id).batches) >= 20)
    if os.path.isdir(f"/proc/{worker['pid']}/task"):  # every thread of the training runs below the pages
        threads = os.listdir(f"/proc/{worker['pid']}/task")
        assert min(os.getpriority(os.PRIO_PROCESS, int(t)) for t in threads) == 10  # (some of Ray's own run at 15)
        assert os.getpriority(os.PRIO_PROCESS, 0) == 0  # and the server is untouched

    asked = time.monotonic()
    assert manager.stop(job_id, owner=ALICE)
    # the worker polls every 0.2 s, stops within a batch and scores the part-epoch: well under a second on a quiet
    # machine, but the training runs niced below every other process, so a machine busy with them delays it
    assert wait_for(lambda: any(e.get("partial") for e in manager.snapshot(job_id).epochs), timeout=120, step=0.01)
    print(f"stop seen {time.monotonic() - asked:.2f} s after the request")
    job = manager.wait(job_id, timeout=60)
    assert job.state == "stopped" and job.message == "stopped by request during epoch 1"
    assert job.last_batch["step"] < job.info["steps_per_epoch"]
    assert (Path(job.run_dir) / runs.BEST).is_file() and job.result["test_accuracy"] is not None


def test_two_servers_on_one_ray_see_the_same_trainings_and_either_stops_one(on_module_ray, servers):
    a, b = servers(), servers()
    asked = time.monotonic()
    job_id = a.submit(slow(), None, owner=ALICE, name="shared")
    assert wait_for(lambda: b.snapshot(job_id) is not None and b.snapshot(job_id).batches, timeout=120)
    print(f"\na training on the running Ray: first batch {time.monotonic() - asked:.1f} s after Start")
    assert wait_for(lambda: len(b.snapshot(job_id).batches) >= 10)
    seen = b.snapshot(job_id)
    assert (seen.name, seen.state, seen.owner) == ("shared", "running", a.snapshot(job_id).owner)
    assert b.worker(job_id) == a.worker(job_id) and 0 < seen.progress < 1
    with pytest.raises(Exception, match=f"^training {job_id} belongs to another session\\.$"):
        b.stop(job_id, owner=BOB)
    assert b.stop(job_id, owner=ALICE)
    job = a.wait(job_id, timeout=60)
    assert job.state == "stopped" and b.wait(job_id, timeout=10).state == "stopped"


SERVER_THAT_STOPS = textwrap.dedent("""
    import os, sys, time
    from core.serving.ray_runner import RayExecutor
    from core.serving.shared_jobs import SharedJobManager
    from core.training.config import TrainConfig

    manager = SharedJobManager(RayExecutor(), runs_root=sys.argv[1], poll=0.1)
    job_id = manager.submit(TrainConfig(arch="mlp", epochs=2, limit=12000, batch_size=64), None, owner=sys.argv[2])
    while not manager.snapshot(job_id).batches:
        time.sleep(0.02)
    print(job_id, flush=True)
    os._exit(0)  # the server stops, no clean-up
""")


def test_a_restarted_server_finds_its_training_running_and_follows_it(on_module_ray, servers, tmp_path):
    stopped = subprocess.run(
        [sys.executable, "-c", SERVER_THAT_STOPS, str(tmp_path), ALICE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert stopped.returncode == 0, stopped.stderr[-2000:]
    job_id = stopped.stdout.split()[-1]
    manager = servers()
    job = manager.snapshot(job_id)
    assert job.state == "running" and job.batches and manager.owns(job, ALICE)
    done = manager.wait(job_id, timeout=180)
    assert done.state == "completed" and [e["epoch"] for e in done.epochs] == [1, 2]
    assert done.result["epochs_run"] == 2 and done.result["test_accuracy"] > 0.5
    assert json.loads((tmp_path / ".jobs" / f"{job_id}.json").read_text())["state"] == "completed"


def test_a_killed_worker_ends_its_training_as_failed_and_keeps_the_best_checkpoint(on_module_ray, servers):
    manager = servers()
    job_id = manager.submit(quick(epochs=4, limit=12000, batch_size=64), None, owner=ALICE)
    assert wait_for(lambda: manager.snapshot(job_id).epochs, timeout=180)
    run = Path(manager.snapshot(job_id).run_dir)
    assert wait_for(lambda: runs.read_metrics(run) and (run / runs.BEST).is_file())
    os.kill(manager.worker(job_id)["pid"], signal.SIGKILL)
    job = manager.wait(job_id, timeout=60)
    done = len(runs.read_metrics(run))
    assert job.state == "failed" and job.error == job.message
    assert job.error == LOST.format(epochs=done, s="" if done == 1 else "s", kept="the best checkpoint so far is kept")
    assert "\n" not in job.error and (run / runs.BEST).is_file()


def hold(ray, **options):
    """An actor of this test that holds the resources of `options` (once it runs) until it is killed."""

    class Holder:
        def ready(self) -> bool:
            return True

    holder = ray.remote(Holder).options(**options).remote()
    assert ray.get(holder.ready.remote(), timeout=120)
    return holder


def no_actor(ray, name: str) -> bool:
    try:
        ray.get_actor(name, namespace=NAMESPACE)
    except ValueError:
        return True
    return False


def test_a_training_no_node_of_the_cluster_can_hold_fails_at_once_with_one_line(on_module_ray, servers, tmp_path):
    ray = ray_runner.connect()
    gpus = ray.cluster_resources().get("GPU", 0)
    asking = RaySettings(address=os.environ["FMNIST_RAY_ADDRESS"], gpus=gpus + 1)
    manager = servers(executor=RayExecutor(settings=asking), max_concurrent=1)
    first = manager.submit(quick(), None, owner=ALICE)
    second = manager.submit(quick(), None, owner=ALICE)  # queued behind it: the queue moves on
    if gpus == 0:
        expected = (
            "No machine in the Ray cluster has 1 GPU for a training (the cluster has 0 GPUs; "
            "set FMNIST_GPUS_PER_TRAINING=0 or add a GPU node)."
        )
    else:
        expected = (
            f"No machine in the Ray cluster has {gpus + 1:g} GPUs for a training (its largest node has {gpus:g} "
            f"GPU{'' if gpus == 1 else 's'}; set FMNIST_GPUS_PER_TRAINING={gpus:g} or less, or add a node with "
            f"{gpus + 1:g} GPUs)."
        )
    for job_id in (first, second):
        job = manager.wait(job_id, timeout=30)
        assert (job.state, job.error, job.message) == ("failed", expected, expected)
        assert no_actor(ray, job_id)
    assert [p.name for p in tmp_path.iterdir()] == [".jobs"]  # no run folder begun


def test_a_training_that_finds_the_cluster_busy_waits_saying_so_and_starts_once_there_is_room(
    on_module_ray, servers, tmp_path
):
    ray = ray_runner.connect()
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    head = next(n for n in ray.nodes() if n["Alive"] and "node:__internal_head__" in n["Resources"])
    on_head = NodeAffinitySchedulingStrategy(head["NodeID"], soft=False)
    blocker = hold(ray, num_cpus=1, scheduling_strategy=on_head)  # the rest of the cluster too small for it
    whole_head = RaySettings(address=os.environ["FMNIST_RAY_ADDRESS"], cpus=head["Resources"]["CPU"])
    manager = servers(executor=RayExecutor(settings=whole_head))

    cancelled = manager.submit(quick(), None, owner=ALICE)
    assert wait_for(lambda: manager.snapshot(cancelled).message == job_events.WAITING, timeout=30)
    time.sleep(3)  # more than one look at the cluster: still waiting, still said
    job = manager.snapshot(cancelled)
    assert (job.state, job.message, job.batches) == ("running", job_events.WAITING, [])
    asked = time.monotonic()
    assert manager.stop(cancelled, owner=ALICE)
    job = manager.wait(cancelled, timeout=10)
    assert time.monotonic() - asked < 3.0
    assert (job.state, job.message) == ("stopped", "cancelled before it started") and no_actor(ray, cancelled)

    job_id = manager.submit(quick(), None, owner=ALICE)
    assert wait_for(lambda: manager.snapshot(job_id).message == job_events.WAITING, timeout=30)
    ray.kill(blocker)
    assert wait_for(lambda: manager.snapshot(job_id).batches, timeout=120)
    assert manager.snapshot(job_id).message != job_events.WAITING
    assert manager.wait(job_id, timeout=120).state == "completed"


def test_a_waiting_training_fails_with_one_line_when_the_only_node_that_fits_leaves(
    on_module_ray, ray_home, servers, tmp_path
):
    ray = ray_runner.connect()
    assert wait_for(lambda: "worker_node" not in ray.cluster_resources(), timeout=60)  # no earlier node left
    node, _ = start_worker_node(ray_home)
    try:
        blocker = hold(ray, num_cpus=0, resources={"worker_node": 1})  # kept: a dropped handle ends the actor
        asking = RaySettings(address=os.environ["FMNIST_RAY_ADDRESS"], cpus=1, resources={"worker_node": 1})
        manager = servers(executor=RayExecutor(settings=asking))
        job_id = manager.submit(quick(), None, owner=ALICE)
        waits = wait_for(lambda: manager.snapshot(job_id).message == job_events.WAITING, timeout=60)
        assert waits, manager.snapshot(job_id)
        assert ray.get(blocker.ready.remote(), timeout=30)  # it held the node the whole time
    finally:  # the node's machine goes away at once (a node ended by SIGTERM would wait for its busy worker)
        os.killpg(node.pid, signal.SIGKILL)
        node.wait()
    job = manager.wait(job_id, timeout=120)  # Ray marks a silent node dead within about 15 s
    assert job.state == "failed" and job.error == (
        'No machine in the Ray cluster has 1 of "worker_node" for a training (the cluster has no "worker_node" '
        "resource; remove it from FMNIST_RAY_RESOURCES or add a node that has it)."
    )
    assert no_actor(ray, job_id) and [p.name for p in tmp_path.iterdir()] == [".jobs"]


def start_worker_node(ray_home) -> tuple[subprocess.Popen, str]:
    """A second node (1 CPU and the custom resource worker_node) joined to the module's local Ray, and its id."""
    address = ray_runner.local_head(ray_home)
    head = ray_runner.local_head_info(ray_home)
    node = subprocess.Popen(
        [sys.executable, str(ROOT / "tests/core/ray_node.py"), address, head["temp_dir"], "--num-cpus", "1",
         "--resources", json.dumps({"worker_node": 1})],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    line = node.stdout.readline()
    if not line.startswith("node "):
        end_worker_node(node)
        pytest.fail(f"the second node did not start: {line!r}")
    return node, line.split()[1]


def end_worker_node(node: subprocess.Popen) -> None:
    node.terminate()
    try:
        node.wait(timeout=30)
    except subprocess.TimeoutExpired:
        node.kill()
        node.wait()


@pytest.fixture
def worker_node(ray_home):
    node, node_id = start_worker_node(ray_home)
    try:
        yield node_id
    finally:
        end_worker_node(node)


def test_trainings_that_ask_for_the_worker_nodes_resource_land_on_it(on_module_ray, worker_node, servers, monkeypatch):
    monkeypatch.setenv("FMNIST_RAY_RESOURCES", json.dumps({"worker_node": 1}))
    monkeypatch.setenv("FMNIST_CPUS_PER_TRAINING", "1")
    manager = servers()
    job_id = manager.submit(quick(), None, owner=ALICE)
    assert manager.wait(job_id, timeout=240).state == "completed"
    assert manager.worker(job_id)["node"] == worker_node  # the head has no worker_node resource


def test_a_sweep_on_ray_trains_its_runs_at_once(on_module_ray, data_dir, tmp_path, capsys):
    argv = ["--ray", "--arch", "mlp", "--limit", "30000", "--epochs", "2", "--batch-size", "64", "--seed", "1,2"]
    assert sweep.main([*argv, "--data-dir", data_dir, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for seed in (1, 2):
        assert re.search(rf"^run [12]/2  seed={seed}: completed, test \d+\.\d+%, 2 epochs, ", out, re.M), out
    folders = [p for p in tmp_path.iterdir() if (p / runs.SUMMARY).is_file()]
    assert len(folders) == 2
    began = [(p / runs.CONFIG).stat().st_mtime for p in folders]
    ended = [(p / runs.SUMMARY).stat().st_mtime for p in folders]
    assert max(began) < min(ended)  # both trained at the same time
