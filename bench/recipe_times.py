"""python -m bench.recipe_times [--batches 8] [NAME ...]: rough whole-recipe training time of each recipe.

Each recipe runs the real Trainer for two short epochs of `--batches` batches (the second is timed, so
start-up is left out); its training throughput and validation speed are scaled to the recipe's full
epochs, validation split and the final test-set evaluation. Early-stopping recipes are timed for all
their epochs (an upper bound).
"""

import core  # noqa: F401  (OMP_WAIT_POLICY=PASSIVE before torch loads)

# isort: split
import argparse
import math
import tempfile

from core.base.device import configure_threads, describe_cpu
from core.data import dataset
from core.training.recipes import RECIPES, get_recipe
from core.training.trainer import Trainer

TRAIN_IMAGES, TEST_IMAGES = 60_000, 10_000


def estimate(recipe, data, batches: int, root) -> dict:
    cfg = recipe.config()
    val = cfg.val_fraction
    cfg.limit = max(20, math.ceil(cfg.batch_size * (batches + 0.5) / (1 - val)))  # last batch: half size
    cfg.epochs, cfg.patience = 2, 0
    result = Trainer(cfg, data, runs_root=root).run()
    timed = result.history[-1]
    n_train = round(cfg.limit * (1 - val))
    n_val = cfg.limit - n_train
    train_s = n_train / timed["images_per_s"]
    per_eval_image = max(timed["seconds"] - train_s, 0.0) / max(n_val, 1)
    full_train, full_val = TRAIN_IMAGES * (1 - val), TRAIN_IMAGES * val
    epoch_s = full_train / timed["images_per_s"] + full_val * per_eval_image
    total = recipe.settings["epochs"] * epoch_s + TEST_IMAGES * per_eval_image
    return {"recipe": recipe.name, "images_per_s": timed["images_per_s"], "epoch_s": epoch_s, "total_s": total}


def human(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.recipe_times")
    p.add_argument("names", nargs="*", help="recipes to time (default: all)")
    p.add_argument("--batches", type=int, default=8, help="batches in each of the two short epochs")
    args = p.parse_args()
    threads = configure_threads()
    print(f"CPU: {describe_cpu()}; {threads} threads")
    data = dataset.load()
    recipes = [get_recipe(n) for n in args.names] if args.names else RECIPES
    with tempfile.TemporaryDirectory() as root:
        for recipe in recipes:
            r = estimate(recipe, data, args.batches, root)
            print(
                f"{r['recipe']:<16} {r['images_per_s']:>9,.0f} img/s  epoch {human(r['epoch_s']):>8}  "
                f"recipe ({recipe.settings['epochs']} epochs) {human(r['total_s']):>9}",
                flush=True,
            )


if __name__ == "__main__":
    main()
