"""The benchmark's quick-mode pieces on tiny numbers: every table row is there, every figure positive."""

import math
import os
from dataclasses import replace

import pytest

from bench import memory, run, targets
from bench.table import render
from bench.timing import latency_ms, percentile

SECTIONS_TABLE = (
    "## Training throughput",
    "## Time to test accuracy",
    "## Quick demo, whole process",
    "## Whole process",
    "## Memory",
    "## Latency",
)


@pytest.fixture(scope="module")
def results(fmnist, data_dir):
    os.environ.setdefault("FMNIST_DATA_DIR", data_dir)
    # A small test set keeps the Trainer's own end-of-run evaluation short.
    small = replace(fmnist, test_images=fmnist.test_images[:200], test_labels=fmnist.test_labels[:200])
    s = run.Settings(
        images=128,
        batches=(64,),  # each row runs the loop three ways, one of them in a fresh interpreter: one batch size
        budget_s=0.5,
        accuracy_limit=256,
        process_limit=128,
        process_repeats=1,
        repeats=3,
        test_repeats=1,
        device="cpu",
        mode="test",
        sections=tuple(x for x in run.SECTIONS if x != "race"),  # the race has its own test (test_race.py)
    )
    return run.collect(s, data=small, log=lambda m: None)


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def test_throughput_rows(results):
    rows = results["throughput"]
    assert [(r["arch"], r["batch"]) for r in rows] == [("mlp", 64), ("simple_cnn", 64)]
    assert all(_positive(r["usual"]) and _positive(r["ours"]) and _positive(r["usual_openmp_defaults"]) for r in rows)


def test_accuracy_race(results):
    race = results["accuracy"]
    assert race["targets"] == [0.90, 0.91, 0.92, 0.93]
    assert "OpenMP defaults" in race["usual_label"] and "quick_demo" in race["ours_label"]
    for way in ("usual", "ours"):
        assert race[way]["epochs"] >= 1 and 0 < race[way]["best"] <= 1 and _positive(race[way]["seconds"])


def test_quick_demo_against_one_usual_epoch_as_written(results):
    q = results["quick_demo"]
    assert _positive(q["ours"]) and _positive(q["usual"]) and len(q["ours_all"]) == len(q["usual_all"]) == 1
    assert 0 < q["ours_accuracy"][0] <= 1 and 0 < q["usual_accuracy"][0] <= 1
    assert q["ours_cmd"] == "python -m core.train --limit 128"


def test_header_names_the_cpu_vector_features(results):
    assert any(word in results["machine"] for word in ("AVX2", "no AVX2"))
    assert "AMX" in results["machine"]  # present or "no AMX"


def test_table_judges_the_quick_demo():
    q = {
        "ours": 25.0,
        "usual": 11.0,
        "ours_all": [25.0],
        "usual_all": [11.0],
        "ours_accuracy": [0.9144],
        "usual_accuracy": [0.83],
        "ours_cmd": "o",
        "usual_cmd": "u",
    }
    table = render({"mode": "t", "machine": "m", "quick_demo": q})
    assert "| ours / one usual epoch (target ≤2.5x, every run ≥91%) | 2.27x, 91.44% | PASS |" in table
    q["ours_accuracy"] = [0.9099]
    assert "| FAIL |" in render({"mode": "t", "machine": "m", "quick_demo": q})


def test_process_memory_latency(results):
    assert _positive(results["process"]["ours"]) and _positive(results["process"]["usual"])
    assert 50 < results["memory"]["peak_mb"] < 100_000 and len(results["memory"]["models"]) >= 5
    rows = results["latency"]
    assert {r["model"].split(" ")[0] for r in rows} >= {"mlp", "simple_cnn", "lenet5"}
    for r in rows:
        for key in ("classify", "feature_maps", "test_set"):
            assert _positive(r[key]["p50"]) and r[key]["p95"] >= r[key]["p50"]


def test_table(results):
    table = render(results)
    for heading in SECTIONS_TABLE:
        assert heading in table
    for row in ("| mlp | 64 |", "| simple_cnn | 64 |", "| 91% |"):
        assert row in table
    assert table.count("PASS") + table.count("FAIL") + table.count("n/a") >= 8


def test_timing_helpers():
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([5.0], 95) == 5.0
    stats = latency_ms(lambda: sum(range(100)), repeats=5, warmup=0)
    assert stats["n"] == 5 and stats["p95"] >= stats["p50"] > 0


def test_table_marks_missed_target_as_fail():
    race = {
        "targets": [0.91],
        "budget_s": 10,
        "usual_label": "u",
        "ours_label": "o",
        "usual": {"reached": {0.91: 100.0}, "best": 0.92, "seconds": 100.0, "epochs": 9},
        "ours": {"reached": {0.91: 50.0}, "best": 0.92, "seconds": 50.0, "epochs": 3},
    }
    table = render({"mode": "t", "machine": "m", "accuracy": race})
    assert "| 91% | 100 s | 50 s | 2.0x | ≥5x | FAIL |" in table
    assert targets.mark(None) == "n/a"


def test_table_whole_process_row_judges_the_median():
    p = {
        "usual": 27.0,
        "ours": 10.0,
        "usual_all": [26.0, 27.0, 30.0],
        "ours_all": [9.0, 10.0, 12.0],
        "usual_cmd": "u",
        "ours_cmd": "o",
    }
    table = render({"mode": "t", "machine": "m", "process": p})
    assert "| `o` | 10.0 s | 9.0, 10.0, 12.0 |" in table
    assert "| ratio (target ≥3x) | 2.7x | FAIL |" in table
    p["ours"] = 9.0
    assert "| ratio (target ≥3x) | 3.0x | PASS |" in render({"mode": "t", "machine": "m", "process": p})


def test_vm_hwm_reads_proc():
    assert memory.rss_mb() > 10


def test_wait_policy_ab_runs_each_setting_in_its_own_interpreter():
    from bench import wait_policy

    times = wait_policy.compare(rounds=1, steps=3)
    assert list(times) == list(wait_policy.SETTINGS)
    assert all(len(ms) == 1 and _positive(ms[0]) for ms in times.values())
    assert _positive(wait_policy.step_ms({"OMP_WAIT_POLICY": "PASSIVE"}, steps=3, together=2))
    text = wait_policy.table({"a": [2.0, 4.0], "b": [1.0, 1.0], "c": [math.inf, math.inf]}, busy=2)
    assert text.startswith("simple_cnn step at batch 64, 2 other core-busy processes")
    assert "| a | 3.00 | 2.00, 4.00 | 1.00x |" in text and "| b | 1.00 | 1.00, 1.00 | 3.00x |" in text
    assert "| c | > 60 s per run | > 60 s per run, > 60 s per run | 0.00x |" in text
