"""Whole-process wall time: `python -m core.train` for one epoch against the usual-way script for one epoch."""

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
            "ours": [sys.executable, "-m", "core.train", "--arch", arch, "--epochs", "1", "--batch-size",
                     str(batch_size), "--val-fraction", "0", "--out", runs, *extra],
            "usual": [sys.executable, "-m", "bench.usual_way", "--arch", arch, "--epochs", "1", "--batch-size",
                      str(batch_size), *extra],
        }
        for _ in range(repeats):
            for way in ("usual", "ours"):
                times[way].append(wall_s(cmds[way], env))
    return {"ours": statistics.median(times["ours"]), "usual": statistics.median(times["usual"]),
            "ours_all": times["ours"], "usual_all": times["usual"],
            "ours_cmd": " ".join(["python"] + cmds["ours"][1:]).replace(runs, "RUNS"),
            "usual_cmd": " ".join(["python"] + cmds["usual"][1:])}
