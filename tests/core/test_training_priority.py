"""A training runs below the pages: every thread of its worker process, or its own thread and the threads it starts
where the server runs trainings in threads, at the asked niceness; the setting checked."""

import json
import os
import subprocess
import sys

import pytest

from core.base.errors import StudioError
from core.serving import ray_runner, shared_jobs
from core.serving.jobs import JobManager
from core.training.config import TrainConfig
from core.training.trainer import TrainResult

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="per-thread niceness is Linux's")

SCRIPT = """
import json, os, threading, time
from core.serving.priority import lower_process
before = threading.Thread(target=time.sleep, args=(2,)); before.start()
lower_process(7)
after = threading.Thread(target=time.sleep, args=(2,)); after.start()
nices = sorted({os.getpriority(os.PRIO_PROCESS, int(t)) for t in os.listdir(f"/proc/{os.getpid()}/task")})
lower_process(3)  # never lowers what is already higher
print(json.dumps({"nices": nices, "now": os.getpriority(os.PRIO_PROCESS, 0), "threads": len(os.listdir(f"/proc/{os.getpid()}/task"))}))
"""


def test_every_thread_started_before_or_after_gets_the_niceness_and_it_never_goes_down():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    found = json.loads(out.stdout)
    assert found["nices"] == [7] and found["now"] == 7 and found["threads"] >= 3


def test_the_niceness_setting(monkeypatch):
    monkeypatch.delenv("FMNIST_TRAINING_NICE", raising=False)
    assert ray_runner.RaySettings.from_env().nice == 10
    monkeypatch.setenv("FMNIST_TRAINING_NICE", "0")
    assert ray_runner.RaySettings.from_env().nice == 0
    for bad in ("-1", "20", "ten", "1.5"):
        monkeypatch.setenv("FMNIST_TRAINING_NICE", bad)
        with pytest.raises(StudioError) as e:
            ray_runner.RaySettings.from_env()
        assert str(e.value) == f"FMNIST_TRAINING_NICE must be a whole number from 0 to 19, got {bad!r}."


def _nices_of_this_process() -> dict[int, int]:
    tasks = f"/proc/{os.getpid()}/task"
    return {int(t): os.getpriority(os.PRIO_PROCESS, int(t)) for t in os.listdir(tasks)}


class _Recorder:
    """A trainer that records the niceness of its thread, and of the threads a parallel PyTorch operation starts."""

    seen: dict = {}

    def __init__(self, config, data, runs_root=None, name=None, on_event=None):
        self.run_dir = runs_root

    def run(self):
        import threading

        import torch

        before = set(_nices_of_this_process())
        torch.set_num_threads(2)
        x = torch.randn(400, 400)
        for _ in range(5):
            (x @ x).sum()
        after = _nices_of_this_process()
        _Recorder.seen = {
            "own": os.getpriority(os.PRIO_PROCESS, threading.get_native_id()),
            "started": sorted({n for t, n in after.items() if t not in before}),
            "others": os.getpriority(os.PRIO_PROCESS, os.getpid()),
        }
        return TrainResult("completed", "done", self.run_dir, None, None, None, None, 0, 0.0)

    def stop(self):
        pass


def test_a_training_thread_and_the_threads_it_starts_run_at_the_managers_niceness(tmp_path):
    jobs = JobManager(runs_root=tmp_path, trainer_factory=_Recorder, nice=9)
    job_id = jobs.submit(TrainConfig(epochs=1, limit=64), data=object(), owner="a")
    assert jobs.wait(job_id, timeout=60).state == "completed"
    seen = _Recorder.seen
    assert seen["own"] == 9 and seen["others"] == os.getpriority(os.PRIO_PROCESS, os.getpid()) != 9
    assert seen["started"] == [9]  # the thread PyTorch started for its second core


def test_the_servers_thread_executor_takes_the_niceness_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("FMNIST_TRAINING_EXECUTOR", "thread")
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path))
    monkeypatch.delenv("FMNIST_TRAINING_NICE", raising=False)
    assert shared_jobs.server_jobs(data_loader=object).nice == 10
    monkeypatch.setenv("FMNIST_TRAINING_NICE", "17")
    assert shared_jobs.server_jobs(data_loader=object).nice == 17
