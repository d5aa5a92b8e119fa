"""The speed ladder's recipes (bench/ladder.py): each is a valid recipe, and one short epoch of each on part of
the data already learns (the full runs and their times are in bench/RESULTS.md)."""

from dataclasses import replace

import pytest

from bench.ladder import RUNGS
from core.training.recipes import get_recipe
from core.training.trainer import Trainer

# a 1-epoch smoke run on LIMIT images (16 steps), tested on the first TESTED test images: the accuracy each recipe
# must at least reach, well above the 10% of a guess (measured on all 10,000: quick_94 55%; quick_95 is the same
# net with erasing and the same bar as before)
LIMIT, TESTED = 4000, 2000
SMOKE = {"quick_93": 0.60, "quick_94": 0.45, "quick_95": 0.30}


def test_every_rung_is_a_recipe_that_validates():
    assert [r.recipe for r in RUNGS] == ["quick_demo", "quick_93", "quick_94", "quick_95"]
    for r in RUNGS:
        recipe = get_recipe(r.recipe)
        config = recipe.config().validate()
        assert config.val_fraction == 0.0  # every image trains; the test set is evaluated once, at the end
        assert recipe.cpu_time.split()[-1] in ("s", "min")
    assert [r.accuracy for r in RUNGS] == [0.91, 0.93, 0.94, 0.95]


@pytest.mark.parametrize("name", [r.recipe for r in RUNGS[1:]])
def test_one_short_epoch_of_each_new_rung_learns(name, fmnist):
    config = get_recipe(name).config()
    config.limit, config.epochs, config.device = LIMIT, 1, "cpu"
    data = replace(fmnist, test_images=fmnist.test_images[:TESTED], test_labels=fmnist.test_labels[:TESTED])
    result = Trainer(config.validate(), data, tensorboard=False).run()
    assert result.status == "completed" and result.epochs_run == 1
    assert result.test_accuracy >= SMOKE[name], result.test_accuracy
