"""python -m bench.levers [--base quick_93] [--seed 0] [--only LABEL ...]: what each lever of a ladder recipe buys.

Each row is the base recipe with one lever changed (taken away, or one more added), run as a user runs it
(`python -m core.train --preset BASE ...` in a fresh interpreter, whole process, test set once at the end). It
prints the test accuracy, the wall and CPU seconds of the whole process, and the change against the base in the
same run. On a machine shared with other work, read the CPU seconds: wall time swings with the load.
"""

import core  # noqa: F401  (OMP_WAIT_POLICY=PASSIVE before torch loads)

# isort: split
import argparse
import json
import os
import sys
import tempfile

from bench.race import timed

# (label, the flags that change the base): each lever alone, the rest of the recipe kept
LEVERS = {
    "quick_93": (
        ("the recipe", []),
        ("no whitened first layer", ["--no-whiten"]),
        ("no test-time flip", ["--no-test-time-flip"]),
        ("no flips (in training or at test time)", ["--no-augment", "--no-test-time-flip"]),
        ("one convolution a block (depth 1)", ["--depth", "1"]),
        ("depth 1, width 2", ["--depth", "1", "--width", "2"]),
        ("+ 1-pixel shifts", ["--augment-shift", "1"]),
        ("+ average of weights (EMA 0.999)", ["--ema", "0.999"]),
        ("no label smoothing", ["--label-smoothing", "0"]),
        ("batch 512", ["--batch-size", "512"]),
        ("float32 (no bf16 autocast)", ["--no-amp"]),
        ("6 epochs", ["--epochs", "6"]),
        ("12 epochs", ["--epochs", "12"]),
    ),
    "quick_94": (
        ("the recipe", []),
        ("14 epochs", ["--epochs", "14"]),
        ("no whitened first layer", ["--no-whiten"]),
        ("no test-time flip", ["--no-test-time-flip"]),
        ("+ average of weights (EMA 0.999)", ["--ema", "0.999"]),
    ),
    "quick_95": (
        ("the recipe", []),
        ("no random erasing", ["--augment-erase", "0"]),
        ("no test-time shifts (flip only)", ["--no-test-time-shift"]),
        ("no average of weights (EMA)", ["--ema", "0"]),
        ("no 1-pixel shifts", ["--augment-shift", "0"]),
        ("20 epochs", ["--epochs", "20"]),
    ),
}


def run_one(base: str, flags: list[str], seed: int, data_dir: str | None = None) -> dict:
    """One whole `core.train` process: test accuracy, wall and CPU seconds, epochs."""
    with tempfile.TemporaryDirectory(prefix="bench-levers-") as runs:
        cmd = [sys.executable, "-m", "core.train", "--preset", base, *flags, "--seed", str(seed), "--json"]
        cmd += ["--out", runs] + (["--data-dir", data_dir] if data_dir else [])
        wall, cpu, stdout = timed(cmd, dict(os.environ))
    events = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    end = next(e for e in events if e.get("event") == "end")
    return {"accuracy": end["test_accuracy"], "wall_s": wall, "cpu_s": cpu, "epochs": end["epochs_run"]}


def table(base: str, seed: int, rows: list[tuple[str, list[str], dict]], cpu: str) -> list[str]:
    """The rows as markdown, each against the first (the recipe itself)."""
    ref = rows[0][2]
    out = [
        f"## Levers of `{base}` (seed {seed}; whole process, 60,000 training images, test set once at the end)",
        "",
        f"{cpu}. Each row changes one thing; Δ is against the recipe in the same run.",
        "",
        "| change | flags | test accuracy | Δ accuracy | wall s | CPU s | Δ CPU s |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, flags, r in rows:
        delta = (r["accuracy"] - ref["accuracy"]) * 100
        out.append(
            f"| {label} | `{' '.join(flags) or '—'}` | {r['accuracy']:.2%} | {delta:+.2f} pt | {r['wall_s']:.1f} | "
            f"{r['cpu_s']:.1f} | {r['cpu_s'] / ref['cpu_s'] - 1:+.0%} |"
        )
    return out


def main(argv=None) -> int:
    from core.base.device import describe_cpu

    p = argparse.ArgumentParser(prog="python -m bench.levers", description=__doc__.splitlines()[0])
    p.add_argument("--base", default="quick_93", choices=sorted(LEVERS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", nargs="+", help="only these rows (their labels); the recipe itself always runs")
    p.add_argument("--out", help="also write the markdown table here")
    args = p.parse_args(argv)
    chosen = [(label, flags) for label, flags in LEVERS[args.base] if not args.only or label in args.only or not flags]
    cpu = f"{describe_cpu()}; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at start"
    rows = []
    for label, flags in chosen:
        print(f"levers: {label} ...", file=sys.stderr, flush=True)
        rows.append((label, flags, run_one(args.base, flags, args.seed)))
        print(table(args.base, args.seed, rows, cpu)[-1], file=sys.stderr, flush=True)  # each row as it comes
    text = "\n".join(table(args.base, args.seed, rows, cpu))
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
