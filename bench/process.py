"""Whole-process wall time: `python -m core.train` against the usual-way script for one epoch."""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall_s(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def compare(arch="simple_cnn", batch_size=64, limit=None, repeats=3) -> dict:
    """Seconds for each command, both started from a fresh interpreter (imports and data loading included).

    The two alternate `repeats` times and each keeps its median: one run of each is at the mercy of a
    noisy machine.
    """
    extra = ["--limit", str(limit)] if limit else []
    times = {"ours": [], "usual": []}
    with tempfile.TemporaryDirectory(prefix="bench-runs-") as runs:
        env = {**os.environ, "FMNIST_RUNS_DIR": runs}
        cmds = {
            "ours": [
                sys.executable,
                "-m",
                "core.train",
                "--arch",
                arch,
                "--epochs",
                "1",
                "--batch-size",
                str(batch_size),
                "--val-fraction",
                "0",
                "--out",
                runs,
                *extra,
            ],
            "usual": [
                sys.executable,
                "-m",
                "bench.usual_way",
                "--arch",
                arch,
                "--epochs",
                "1",
                "--batch-size",
                str(batch_size),
                *extra,
            ],
        }
        for _ in range(repeats):
            for way in ("usual", "ours"):
                times[way].append(wall_s(cmds[way], env))
    return {
        "ours": statistics.median(times["ours"]),
        "usual": statistics.median(times["usual"]),
        "ours_all": times["ours"],
        "usual_all": times["usual"],
        "ours_cmd": " ".join(["python"] + cmds["ours"][1:]).replace(runs, "RUNS"),
        "usual_cmd": " ".join(["python"] + cmds["usual"][1:]),
    }


def _timed(cmd: list[str], env: dict) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - start, out.stdout


def quick_demo(limit=None, repeats=3) -> dict:
    """`python -m core.train` with no flags (the quick demo recipe) against ONE epoch of the usual way exactly as
    written (OpenMP defaults), each from a fresh interpreter, alternating `repeats` times; medians and the test
    accuracy each printed. Our command runs as a user would start it: core sets its own thread policy. The usual
    epoch with the project's policy (PASSIVE) is timed too, for reference: on a busy machine spinning threads
    make the as-written loop much slower."""
    from bench.as_written import environment, usual_way_command

    extra = ["--limit", str(limit)] if limit else []
    times, accuracy = {"ours": [], "usual": [], "passive": []}, {"ours": [], "usual": [], "passive": []}
    with tempfile.TemporaryDirectory(prefix="bench-runs-") as runs:
        env = {**environment(openmp_defaults=True), "FMNIST_RUNS_DIR": runs}
        ours_cmd = [sys.executable, "-m", "core.train", *extra, "--json"]
        usual_cmd = usual_way_command("--epochs", "1", *extra)
        passive = {**env, "OMP_WAIT_POLICY": "PASSIVE"}
        for _ in range(repeats):
            for way, way_env in (("usual", env), ("passive", passive)):
                seconds, out = _timed(usual_cmd, way_env)
                times[way].append(seconds)
                accuracy[way].append(float(out.strip().splitlines()[-1].rsplit(" ", 1)[1].rstrip("%")) / 100)
            seconds, out = _timed(ours_cmd, env)
            times["ours"].append(seconds)
            accuracy["ours"].append(json.loads(out.strip().splitlines()[-1])["test_accuracy"])
    return {
        "ours": statistics.median(times["ours"]),
        "usual": statistics.median(times["usual"]),
        "passive": statistics.median(times["passive"]),
        "ours_all": times["ours"],
        "usual_all": times["usual"],
        "passive_all": times["passive"],
        "ours_accuracy": accuracy["ours"],
        "usual_accuracy": accuracy["usual"],
        "passive_accuracy": accuracy["passive"],
        "ours_cmd": " ".join(["python"] + ours_cmd[1:-1]),
        "usual_cmd": " ".join(["python"] + usual_cmd[1:]) + "  (OpenMP defaults)",
    }
