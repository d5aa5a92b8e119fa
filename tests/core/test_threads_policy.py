"""How OpenMP threads wait: sleep at once for library users and the app, spin briefly in a process that
claims the machine (core.dedicate_cores), and never override what the user set. Each case needs a fresh
interpreter, since the choice must be made before torch loads."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REPORT = "import json, os; print(json.dumps([{0}, os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT')]))"


def _run(code: str, **env) -> list:
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_library_and_app_default_is_passive():
    assert _run("import core; " + REPORT.format("None")) == [None, "PASSIVE", None]


def test_dedicated_process_spins_briefly():
    assert _run("import core; ok = core.dedicate_cores(); " + REPORT.format("ok")) == [True, "PASSIVE", "10000"]


def test_too_late_once_torch_is_loaded():
    assert _run("import core, torch; ok = core.dedicate_cores(); " + REPORT.format("ok")) == [False, "PASSIVE", None]


def test_user_choice_wins():
    code = "import core; ok = core.dedicate_cores(); " + REPORT.format("ok")
    assert _run(code, OMP_WAIT_POLICY="ACTIVE") == [False, "ACTIVE", None]
    assert _run(code, GOMP_SPINCOUNT="500") == [False, "PASSIVE", "500"]


def test_train_cli_claims_the_machine_but_importing_it_does_not():
    # Imported as a library (the app, the tests), core.train leaves the policy alone.
    assert _run("import core.train; " + REPORT.format("None")) == [None, "PASSIVE", None]
    # Run as `python -m core.train`, it claims the machine before torch loads.
    as_main = ("import runpy, sys\nsys.argv = ['core.train', '--help']\ntry:\n"
               "    runpy.run_module('core.train', run_name='__main__')\nexcept SystemExit:\n    pass\n")
    assert _run(as_main + REPORT.format("'torch' in __import__('sys').modules")) == [True, "PASSIVE", "10000"]
