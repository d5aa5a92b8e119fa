"""Repeat a call and summarise its wall times."""

import statistics
import time


def percentile(values, q: float) -> float:
    """The q-th percentile of `values`, q on the 0-100 scale (whole numbers 1-99), linear between closest ranks.
    The benchmarks' one percentile: a fraction such as 0.95 is refused rather than read as the 1st percentile."""
    if not 1 <= q <= 99:
        raise ValueError(f"percentile: q is on the 0-100 scale (1-99), got {q!r}.")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[min(max(round(q), 1), 99) - 1]


def latency_ms(fn, repeats: int, warmup: int = 2) -> dict:
    """p50 and p95 of `repeats` calls of fn(), in milliseconds, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return {"p50": percentile(times, 50), "p95": percentile(times, 95), "n": repeats}
