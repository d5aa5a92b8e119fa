"""Recipes: every one is a valid, complete setting with what it shows and its time; the default is quick_demo."""

import pytest

from core.base.errors import StudioError
from core.cli.train import config_from_args, parser
from core.training.recipes import DEFAULT_RECIPE, RECIPE_NAMES, RECIPES, get_recipe, preset_config


def test_every_recipe_is_valid_and_says_what_it_shows_and_how_long_it_takes():
    assert len(set(RECIPE_NAMES)) == len(RECIPES) >= 14
    for recipe in RECIPES:
        config = recipe.config().validate()
        assert config.arch == recipe.settings["arch"]
        assert recipe.title and recipe.shows.endswith(".") and "\n" not in recipe.shows
        assert recipe.cpu_time[0] in "≈≤" and recipe.cpu_time.split()[-1] in ("s", "min", "days")


def test_the_issue_recipes_are_there():
    assert RECIPE_NAMES[0] == DEFAULT_RECIPE == "quick_demo"
    assert {
        "linear",
        "classic_cnn",
        "mlp_early_stop",
        "cnn_early_stop",
        "fc_max",
        "two_conv_25",
        "lenet5_classic",
        "resnet18_sgd",
        "mlp",
        "simple_cnn",
        "two_conv",
        "lenet5",
        "resnet18",
    } <= set(RECIPE_NAMES)
    classic = get_recipe("classic_cnn").config()
    assert (classic.arch, classic.arch_settings["width"], classic.optimizer, classic.lr, classic.batch_size) == (
        "simple_cnn",
        1,
        "adam",
        1e-3,
        64,
    )
    sgd = get_recipe("resnet18_sgd").config()
    assert (sgd.optimizer, sgd.lr, sgd.epochs, sgd.batch_size, sgd.arch_settings["width"]) == ("sgd", 0.01, 50, 64, 1.0)
    assert get_recipe("two_conv_25").config().epochs == 25 and get_recipe("two_conv_25").config().val_fraction == 0.1
    assert all(get_recipe(n).config().patience > 0 for n in ("mlp_early_stop", "cnn_early_stop"))


def test_presets_keep_working_for_the_command_line():
    assert preset_config("simple_cnn_fast").arch == "simple_cnn"  # the benchmark's earlier quick recipe
    with pytest.raises(StudioError, match=r"^unknown preset 'nope'; choose one of: classic_cnn, "):
        preset_config("nope")


def test_the_command_line_default_is_the_quick_demo_recipe():
    assert config_from_args(parser().parse_args([])) == preset_config("quick_demo").validate()
    assert config_from_args(parser().parse_args(["--epochs", "2"])).epochs == 2
    plain = config_from_args(parser().parse_args(["--arch", "simple_cnn"]))
    assert plain.arch_settings["width"] == 1  # --arch alone: the plain defaults
