"""How idle OpenMP threads wait, A/B: python -m bench.wait_policy [--rounds 3] [--busy N] [--together N]

OpenMP reads its wait settings when torch loads, so each setting runs in a fresh interpreter: the mean
time of one training step of the seed simple_cnn at batch 64 (channels_last, fused Adam, as the Trainer
on a CPU), in interleaved rounds, median kept. --busy N adds N processes that each keep a core busy
throughout (something else runs beside training); --together N runs N trainings at once with the same
setting (two trainings on one machine). A run that takes over TIMEOUT_S counts as "> TIMEOUT_S".
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TIMEOUT_S = 60

SETTINGS = {
    "sleep at once: OMP_WAIT_POLICY=PASSIVE (what core sets)": {"OMP_WAIT_POLICY": "PASSIVE"},
    "spin ~0.1 ms: GOMP_SPINCOUNT=10000": {"GOMP_SPINCOUNT": "10000"},
    "spin forever: OMP_WAIT_POLICY=ACTIVE": {"OMP_WAIT_POLICY": "ACTIVE"},
    "OpenMP's default (spin ~3 ms)": {},
}

# Imports torch before core, so core's own default cannot replace the setting under test.
CHILD = """
import json, sys, time
import torch
import torch.nn.functional as F
from core.models import build
steps = int(sys.argv[1])
torch.manual_seed(0)
model = build("simple_cnn").to(memory_format=torch.channels_last)
opt = torch.optim.Adam(model.parameters(), 1e-3, fused=True)
x = torch.randn(640, 1, 28, 28).contiguous(memory_format=torch.channels_last)
y = torch.randint(0, 10, (640,))
def step(i):
    b = slice(i % 10 * 64, i % 10 * 64 + 64)
    loss = F.cross_entropy(model(x[b]), y[b])
    opt.zero_grad()
    loss.backward()
    opt.step()
for i in range(20):
    step(i)
start = time.perf_counter()
for i in range(steps):
    step(i)
print(json.dumps((time.perf_counter() - start) / steps * 1e3))
"""


def step_ms(env: dict, steps: int, together: int = 1) -> float:
    """Mean ms per step in fresh interpreters with `env`, `together` of them training at once (the slowest
    counts); inf if any ran past TIMEOUT_S."""
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(steps)],
            cwd=ROOT,
            env={**clean, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(together)
    ]
    results = []
    try:
        for child in children:
            out, _ = child.communicate(timeout=TIMEOUT_S)
            results.append(json.loads(out.strip().splitlines()[-1]))
    except subprocess.TimeoutExpired:
        return math.inf
    finally:
        for child in children:
            child.kill()
    return max(results)


def compare(rounds: int = 3, steps: int = 300, together: int = 1) -> dict:
    """{setting: [ms per step, one per round]}, settings interleaved within each round."""
    times = {name: [] for name in SETTINGS}
    for _ in range(rounds):
        for name, env in SETTINGS.items():
            times[name].append(step_ms(env, steps, together))
    return times


def _ms(t: float) -> str:
    return f"> {TIMEOUT_S} s per run" if math.isinf(t) else f"{t:.2f}"


def table(times: dict, busy: int, together: int = 1) -> str:
    base = statistics.median(next(iter(times.values())))
    what = f"{busy} other core-busy process{'es' if busy > 1 else ''}" if busy else "quiet machine"
    if together > 1:
        what += f", {together} trainings at once (the slowest counts)"
    lines = [
        f"simple_cnn step at batch 64, {what}",
        "",
        "| idle threads | ms per step (median) | every round | speed vs sleep at once |",
        "|---|---|---|---|",
    ]
    for name, ms in times.items():
        med = statistics.median(ms)
        lines.append(f"| {name} | {_ms(med)} | {', '.join(_ms(t) for t in ms)} | {base / med:.2f}x |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.wait_policy", description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--busy", type=int, default=0, help="processes that each keep a core busy meanwhile")
    p.add_argument("--together", type=int, default=1, help="trainings run at once with each setting")
    args = p.parse_args(argv)
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        print(table(compare(args.rounds, args.steps, args.together), args.busy, args.together))
    finally:
        for hog in hogs:
            hog.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
