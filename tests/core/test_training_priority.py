"""A training's worker process runs below the pages: every thread at the asked niceness, the setting checked."""

import json
import os
import subprocess
import sys

import pytest

from core.base.errors import StudioError
from core.serving import ray_runner

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
