"""Idle OpenMP threads sleep (OMP_WAIT_POLICY=PASSIVE) in every process that imports core, unless the user
chose otherwise. Each case needs a fresh interpreter: OpenMP reads the setting when torch loads."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REPORT = "import json, os; print(json.dumps(os.environ.get('OMP_WAIT_POLICY')))"


def _policy(code: str, **env) -> str | None:
    clean = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    done = subprocess.run(
        [sys.executable, "-c", code + "\n" + REPORT],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_core_makes_idle_threads_sleep_before_torch_loads():
    assert _policy("import core") == "PASSIVE"
    # core.train as a script (python -m core.train) gets the same, set before any torch import.
    as_main = (
        "import runpy, sys\nsys.argv = ['core.train', '--help']\ntry:\n"
        "    runpy.run_module('core.train', run_name='__main__')\nexcept SystemExit:\n    pass"
    )
    assert _policy(as_main) == "PASSIVE"


def test_user_choice_wins():
    assert _policy("import core", OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"
