"""What recording each epoch's filters and histograms costs a training: python -m bench.snapshot_overhead
[--pairs 4] [--limit 12000] [--arch ARCH].

Trains the quick demo recipe on the first `--limit` training images, with the recording (core.training.
epoch_snapshots, into the run folder and TensorBoard) and without it, interleaved A B B A ... so a machine
shared with other work slows both alike. Prints each run's wall and CPU time, the median ratio, and the time
spent inside the recording itself as a share of the run (the steadier figure on a busy machine).
Target: recording slows training by at most 3 %.
"""

import core  # noqa: F401  (OMP_WAIT_POLICY=PASSIVE before torch loads)

# isort: split
import argparse
import os
import statistics
import tempfile
import time

from bench.targets import mark
from core.training import epoch_snapshots

TARGET = 0.03


def one_run(config, data, root: str, record: bool) -> dict:
    """Train once; with `record` False the recording is replaced by nothing. Returns wall, CPU and recording s."""
    from core.training.trainer import Trainer

    real = epoch_snapshots.record
    spent = [0.0]

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start

    epoch_snapshots.record = timed if record else (lambda *a, **k: None)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        Trainer(config, data, runs_root=root).run()
        return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "recording": spent[0]}
    finally:
        epoch_snapshots.record = real


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.snapshot_overhead", description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, default=4, help="pairs of runs (with, without)")
    p.add_argument("--limit", type=int, default=12_000, help="training images")
    p.add_argument("--arch", help="another architecture than the quick demo's")
    args = p.parse_args(argv)
    from core.base.device import configure_threads
    from core.data import dataset
    from core.training.recipes import get_recipe

    threads = configure_threads()
    config = get_recipe("quick_demo").config()
    config.limit, config.device = args.limit, "cpu"
    if args.arch:
        config.arch, config.arch_settings = args.arch, {}
    data = dataset.load()
    print(
        f"# bench.snapshot_overhead — {config.arch}, {config.epochs} epochs on {args.limit:,} images, "
        f"{os.cpu_count()} cores, {threads} threads; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    results = {True: [], False: []}
    with tempfile.TemporaryDirectory() as root:
        one_run(config, data, root, True)  # warm-up: imports, oneDNN kernels, TensorBoard
        for i in range(args.pairs):
            for record in (True, False) if i % 2 == 0 else (False, True):
                r = one_run(config, data, root, record)
                results[record].append(r)
                print(
                    f"{'with   ' if record else 'without'} recording: {r['wall']:6.2f} s wall {r['cpu']:6.2f} s CPU"
                    + (f", {r['recording'] * 1000:5.0f} ms recording" if record else ""),
                    flush=True,
                )
    ratios = [a["wall"] / b["wall"] for a, b in zip(results[True], results[False])]
    cpu = [a["cpu"] / b["cpu"] for a, b in zip(results[True], results[False])]
    share = statistics.median(r["recording"] / r["wall"] for r in results[True])
    print(
        f"\nmedian slowdown: wall {statistics.median(ratios) - 1:+.1%}, CPU {statistics.median(cpu) - 1:+.1%} "
        f"(noise: pairs range {min(ratios) - 1:+.1%} to {max(ratios) - 1:+.1%})"
    )
    print(f"time inside the recording: {share:.2%} of a run  {mark(share <= TARGET)} (target <= {TARGET:.0%})")


if __name__ == "__main__":
    main()
