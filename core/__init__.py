"""Fashion-MNIST Studio core library: data, models, training, evaluation, checkpoints."""

import os
import sys

# How idle OpenMP threads wait. OpenMP reads this when torch first loads it, so it is set here, before
# any module imports torch. OpenMP's own default (spin ~3 ms, then sleep) makes small tensor ops up to
# 100x slower on a 2-core machine that runs anything beside training (the app's server, a second
# process), so idle threads sleep at once (PASSIVE) unless a process claims the machine: dedicate_cores().
_WAIT_SET_BY_USER = "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

DEDICATED_SPINCOUNT = "10000"  # about 0.1 ms of spinning: bridges the gaps between one step's ops


def dedicate_cores() -> bool:
    """For a process that only trains or benchmarks: idle OpenMP threads spin briefly before they sleep.

    The next op then starts without a wake-up: a small CNN's step at batch 64 is ~15-20% faster on 2
    cores (bench/RESULTS.md). Never spinning for long, an idle process costs nothing. But two such
    processes on one 2-core machine slow each other more than sleeping threads would, so the app, which
    shares the cores with its server, never calls this. Must run before torch is imported; does nothing
    after that or when the user set OMP_WAIT_POLICY or GOMP_SPINCOUNT. Returns whether it took effect.
    """
    if _WAIT_SET_BY_USER or "torch" in sys.modules:
        return False
    os.environ["GOMP_SPINCOUNT"] = DEDICATED_SPINCOUNT
    return True
