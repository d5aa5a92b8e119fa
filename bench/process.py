"""Whole-process wall time: `python -m core.train` for one epoch against the usual-way script for one epoch."""

import os
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


def compare(arch="simple_cnn", batch_size=64, limit=None) -> dict:
    """Seconds for each command, both started from a fresh interpreter (imports and data loading included)."""
    extra = ["--limit", str(limit)] if limit else []
    with tempfile.TemporaryDirectory(prefix="bench-runs-") as runs:
        env = {**os.environ, "FMNIST_RUNS_DIR": runs}
        ours_cmd = [sys.executable, "-m", "core.train", "--arch", arch, "--epochs", "1", "--batch-size",
                    str(batch_size), "--val-fraction", "0", "--out", runs, *extra]
        usual_cmd = [sys.executable, "-m", "bench.usual_way", "--arch", arch, "--epochs", "1", "--batch-size",
                     str(batch_size), *extra]
        return {"ours": wall_s(ours_cmd, env), "usual": wall_s(usual_cmd, env),
                "ours_cmd": " ".join(["python"] + ours_cmd[1:]), "usual_cmd": " ".join(["python"] + usual_cmd[1:])}
