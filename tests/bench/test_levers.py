"""The levers bench: every row's flags are valid `core.train` flags that change the recipe, and one run reports
real figures."""

import pytest

from bench import levers
from core.cli import train as train_cli
from core.training.recipes import get_recipe


@pytest.mark.parametrize("base", sorted(levers.LEVERS))
def test_every_lever_is_a_valid_change_of_its_recipe(base):
    rows = levers.LEVERS[base]
    assert rows[0] == ("the recipe", [])
    recipe = get_recipe(base).config().validate().to_dict()
    for label, flags in rows[1:]:
        config = train_cli.config_from_args(train_cli.parser().parse_args(["--preset", base, *flags])).validate()
        assert config.to_dict() != recipe, label  # the lever changes something


def test_the_table_compares_each_row_with_the_recipe():
    ref = {"accuracy": 0.9322, "wall_s": 70.0, "cpu_s": 120.0, "epochs": 8}
    other = {"accuracy": 0.9301, "wall_s": 60.0, "cpu_s": 96.0, "epochs": 8}
    lines = levers.table(
        "quick_93", 0, [("the recipe", [], ref), ("no whitened first layer", ["--no-whiten"], other)], "cpu"
    )
    assert lines[0].startswith("## Levers of `quick_93` (seed 0;")
    assert lines[-2] == "| the recipe | `—` | 93.22% | +0.00 pt | 70.0 | 120.0 | +0% |"
    assert lines[-1] == "| no whitened first layer | `--no-whiten` | 93.01% | -0.21 pt | 60.0 | 96.0 | -20% |"


def test_one_short_run_reports_its_accuracy_and_times(data_dir):
    r = levers.run_one("quick_93", ["--limit", "2000", "--epochs", "1"], seed=0, data_dir=data_dir)
    assert r["epochs"] == 1 and 0.3 < r["accuracy"] <= 1.0
    assert r["cpu_s"] > 0 and r["wall_s"] > 0
