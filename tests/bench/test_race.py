"""The race of the ladder's recipes against the classic loop, in quick mode: every rung has its row."""

import os
from dataclasses import replace

import pytest

from bench import race, run
from bench.ladder import RACE_TARGETS, RUNGS, Rung
from bench.table import render


@pytest.fixture(scope="module")
def quick(fmnist, data_dir):
    os.environ.setdefault("FMNIST_DATA_DIR", data_dir)
    s = replace(
        run.Settings(**run.QUICK), sections=("race",), accuracy_limit=512, budget_s=0.5, device="cpu", test_images=1000
    )
    return run.collect(s, data=fmnist, log=lambda m: None)


def test_quick_mode_races_every_rung_for_one_epoch(quick):
    r = quick["race"]
    assert r["targets"] == list(RACE_TARGETS) and (r["limit"], r["epochs"], r["test_limit"]) == (512, 1, 1000)
    assert [x["recipe"] for x in r["recipes"]] == [step.recipe for step in RUNGS]
    for x in r["recipes"]:
        assert x["epochs"] == 1 and len(x["curve"]) == 1
        assert 0 < x["accuracy"] <= 1 and x["best"] == pytest.approx(x["curve"][0][1])
        assert x["accuracy"] == pytest.approx(x["curve"][-1][1], abs=2e-4)  # its own test of the last epoch
        assert 0 < x["seconds"] < x["whole_s"]  # the whole process adds start-up, data and the final test
        assert x["excluded_s"] > 0
        assert abs(x["accuracy"] * 1000 - round(x["accuracy"] * 1000)) < 1e-3  # a share of the 1,000 test images
    assert r["classic"]["epochs"] >= 1 and r["classic_epoch"]["seconds"] > 0


def test_quick_mode_table(quick):
    table = render(quick)
    assert (
        "## Race: time to test accuracy (shortened: first 512 images, 1 epoch(s) each, tested on the first 1,000 "
        "test images;" in table
    )
    assert "| way | 90% | 91% | 92% | 93% | 94% | 95% | final test accuracy | whole process | CPU s |" in table
    assert "| classic loop (budget 0.5 s, " in table
    for step in RUNGS:
        [line] = [x for x in table.splitlines() if x.startswith(f"| `{step.recipe}` |")]
        assert line.endswith(f"| ≥ {step.accuracy:.0%} in {step.limit_text} | n/a | n/a |")  # shortened: no verdict


def _race(whole_s, whole_cpu_s, accuracy, reached, recipe="quick_93"):
    return {
        "targets": [0.91, 0.93],
        "budget_s": 600,
        "classic_epoch": {"seconds": 14.0, "passive_seconds": 16.0, "passive_cpu_s": 22.0},
        "classic": {"reached": {}, "best": 0.9015, "epochs": 29, "seconds": 600},
        "recipes": [
            {"recipe": recipe, "reached": reached, "accuracy": accuracy, "whole_s": whole_s, "whole_cpu_s": whole_cpu_s}
        ],
        "limit": None,
        "epochs": None,
    }


def test_a_full_race_judges_each_rung_by_accuracy_and_time():
    table = "\n".join(race.table(_race(80.0, 120.0, 0.9312, {0.91: 30.0, 0.93: 70.0})))
    assert (
        "| `quick_93` | 30 s | 70 s | 93.12% | 80.0 s | 120.0 | 5.71x | 5.45x | ≥ 93% in ≤ 6x | PASS | PASS |" in table
    )
    assert "| classic loop (budget 600 s, 29 epochs) | — | — | 90.15% (best epoch) |" in table
    assert "with OMP_WAIT_POLICY=PASSIVE 16.0 s, 22.0 CPU s" in table
    slow = "\n".join(race.table(_race(90.0, 120.0, 0.9312, {0.93: 70.0})))  # 6.4x on a busy minute, 5.45x in CPU
    assert slow.splitlines()[-1].endswith("| FAIL | PASS |")
    short = "\n".join(race.table(_race(80.0, 120.0, 0.9299, {})))  # 92.99%: not there
    assert short.splitlines()[-1].endswith("| FAIL | FAIL |")
    minutes = "\n".join(race.table(_race(1400.0, 3100.0, 0.951, {0.95: 1300.0}, "quick_95")))
    assert minutes.splitlines()[-1].endswith("| ≥ 95% in ≤ 25 min | PASS | FAIL |")  # 3,100 CPU s > 2 x 1,500


def test_rung_budgets():
    assert Rung("a", 0.9, classic_epochs=6).budget(14.0) == 84.0
    assert Rung("b", 0.95, minutes=25).budget(None) == 1500
    assert Rung("a", 0.9, classic_epochs=6).budget(None) is None


def test_a_race_with_seeds_names_each_row_by_its_seed():
    runs = _race(80.0, 120.0, 0.9312, {0.93: 70.0})
    runs["recipes"] = [dict(runs["recipes"][0], seed=s) for s in (0, 1, 2)]
    runs["seeds"] = [0, 1, 2]
    lines = [x for x in race.table(runs) if x.startswith("| `quick_93`")]
    assert [x.split(" | ")[0] for x in lines] == [
        "| `quick_93`, seed 0",
        "| `quick_93`, seed 1",
        "| `quick_93`, seed 2",
    ]
