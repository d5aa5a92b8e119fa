"""The GPU check, run on the CPU as a dry run (tiny limits): every step runs and the table has one row each."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import gpu_check
from bench.ladder import RUNGS

ROOT = Path(__file__).resolve().parents[2]
ROWS = ["environment", "tests on cpu", *(r.recipe for r in RUNGS), "bf16 autocast", "torchrun, 1 process"]


@pytest.fixture(scope="module")
def dry_run(data_dir):
    env = {**os.environ, "FMNIST_DATA_DIR": data_dir}
    out = subprocess.run(
        ["bash", "bench/gpu_check.sh", "--device", "cpu", "--dry-run"],
        cwd=ROOT,
        env={**env, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=2000,
    )
    return out


def _rows(table: str) -> dict[str, list[str]]:
    rows = {}
    for line in table.splitlines():
        if line.startswith("| ") and not line.startswith(("| step", "|---")):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            rows[cells[0]] = cells
    return rows


def test_the_dry_run_prints_one_row_per_step_and_every_step_runs(dry_run):
    assert dry_run.returncode == 0, dry_run.stdout[-2000:] + dry_run.stderr[-2000:]
    table = dry_run.stdout
    assert table.startswith(
        "## GPU check on cpu: dry run (tiny limits: trainings on a copy of the first 2,000 training and 1,000 test "
        "images; no accuracy verdicts)\n"
    )
    rows = _rows(table)
    assert list(rows) == ROWS
    for name, (_, _command, seconds, result, status) in rows.items():
        assert status in ("PASS", "ran"), (name, result)
        assert (seconds == "—") if name == "environment" else (float(seconds) > 0)
    assert rows["environment"][3].startswith("torch ") and "cores" in rows["environment"][3]
    assert rows["tests on cpu"][1].startswith("`FMNIST_TEST_DEVICE=cpu python -m pytest")
    assert rows["tests on cpu"][3].startswith("1 passed")
    for r in RUNGS:
        command, result = rows[r.recipe][1], rows[r.recipe][3]
        assert command.startswith(f"`python -m core.train --preset {r.recipe} --limit 2000 --epochs 1 --device cpu")
        accuracy = float(result.split("%")[0])
        assert 20 < accuracy <= 100 and "1 epochs, training" in result and "on cpu" in result
        assert result.split("%")[0].endswith("0")  # a share of the copy's 1,000 test images: 0.1% steps
    assert re.fullmatch(
        r"ResNet-18 trains [\d,]+ images/s with bf16, [\d,]+ without \(\d+\.\d\dx\)(?: \(bf16 not used on this CPU\))?",
        rows["bf16 autocast"][3],
    )
    assert rows["torchrun, 1 process"][1].startswith("`torchrun --standalone --nproc_per_node=1 -m core.train")
    assert rows["torchrun, 1 process"][3].startswith("gloo: ")
    assert table.rstrip().endswith("every step ran.")


def test_a_spent_budget_or_a_failure_shows_in_the_table():
    clock = gpu_check.Clock(0)
    step = gpu_check.train("quick_demo", ["--preset", "quick_demo"], "cpu", clock, dict(os.environ), 60, 0.91)
    assert (step.status, step.result, step.seconds) == ("FAIL", "not run: the overall budget was spent", 0.0)
    table = gpu_check.table([gpu_check.Step("x", "cmd", 1.5, "a | b", "PASS"), step], "cuda", False, 480)
    assert "| x | `cmd` | 1.5 | a / b | PASS |" in table
    assert "| quick_demo | `python -m core.train --preset quick_demo --device cpu --json --out RUNS` | 0.0 |" in table
    assert table.splitlines()[0] == "## GPU check on cuda: full (budget 480 s)"
    assert table.rstrip().endswith("some steps FAILED.")


def test_the_tests_it_runs_honour_the_device_variable():
    for path in gpu_check.DEVICE_TESTS:
        assert "from tests.device import DEVICE" in (ROOT / path).read_text()
