"""The classic loop exactly as tutorials write it: `bench.usual_way` in a fresh interpreter with OpenMP left at
its defaults (idle threads spin ~3 ms before sleeping), not the project's OMP_WAIT_POLICY=PASSIVE.

`bench.run` imports `core`, which sets PASSIVE for itself and for every child it starts; these helpers start
the child without it (and `bench.usual_way` imports torch before core, so core cannot set it there).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPENMP_SETTINGS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")


def environment(openmp_defaults: bool = True) -> dict:
    """The environment for a child: OpenMP's defaults, or the project's PASSIVE policy."""
    env = {k: v for k, v in os.environ.items() if k not in OPENMP_SETTINGS}
    if not openmp_defaults:
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    return env


def usual_way_command(*args) -> list[str]:
    return [sys.executable, "-m", "bench.usual_way", *[str(a) for a in args]]


def _json(args, openmp_defaults: bool):
    out = subprocess.run(
        usual_way_command(*args), cwd=ROOT, env=environment(openmp_defaults), check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def images_per_s(arch: str, batch_size: int, n: int, openmp_defaults: bool = True) -> float:
    """Images/s of the second of two epochs over the first n images, in a fresh interpreter."""
    return _json(["--arch", arch, "--batch-size", batch_size, "--throughput", n], openmp_defaults)


def time_to_accuracy(targets, budget_s: float, limit=None, test_limit=None, openmp_defaults: bool = True) -> dict:
    """The seed's race (simple_cnn, Adam 1e-3, batch 64) in a fresh interpreter; as usual_way.time_to_accuracy."""
    args = ["--race", budget_s, "--targets", *targets]
    if limit:
        args += ["--limit", limit]
    if test_limit:
        args += ["--test-limit", test_limit]
    result = _json(args, openmp_defaults)
    result["reached"] = {float(t): s for t, s in result["reached"]}
    return result
