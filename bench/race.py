"""The race: each recipe of the ladder against the classic loop, time to 90-95% test accuracy.

Each recipe runs as a user starts it, in a fresh interpreter (`python -m bench.race NAME`, which is
`python -m core.train --preset NAME` with the test set evaluated after every epoch, off the clock). It prints
the training seconds at which each target was first reached, every epoch's test accuracy, the accuracy the
run ends with (what `core.train` prints) and the seconds the extra tests took, which the parent subtracts from
the wall time of the whole process. The classic loop (`bench.usual_way`, OpenMP defaults as tutorials leave
them) runs in its own interpreter too: one epoch as a whole process (the unit of the rungs) and its race.
"""

import core  # noqa: F401  (OMP_WAIT_POLICY=PASSIVE before torch loads)

# isort: split
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.ladder import RACE_TARGETS, RUNGS, rung

ROOT = Path(__file__).resolve().parent.parent


def race_in_process(recipe: str, targets=RACE_TARGETS, limit=None, epochs=None, device="auto", data=None) -> dict:
    """Train the recipe with the real Trainer, the whole test set after each epoch (excluded from the times)."""
    from core.analysis import inference
    from core.data import dataset
    from core.training.recipes import preset_config
    from core.training.trainer import Trainer

    class Timed(Trainer):
        def _record_epoch(self, epoch, eval_model, *a, **kw):
            improved = super()._record_epoch(epoch, eval_model, *a, **kw)
            start = time.perf_counter()
            flip = self.config.test_time_flip
            accuracy = inference.metrics(eval_model, self.data.test_images, self.data.test_labels, flip=flip)
            self.excluded += time.perf_counter() - start
            trained = time.perf_counter() - self.t0 - self.excluded
            self.curve.append((round(trained, 2), accuracy["accuracy"]))
            return improved

    cfg = preset_config(recipe)
    cfg.device = device
    if limit:
        cfg.limit = limit
    if epochs:
        cfg.epochs = epochs
    data = data or dataset.load(allow_download=False)
    with tempfile.TemporaryDirectory(prefix="bench-race-") as root:
        trainer = Timed(cfg, data, runs_root=root)
        trainer.excluded, trainer.curve, trainer.t0 = 0.0, [], time.perf_counter()
        result = trainer.run()
    reached = {}
    for t in targets:
        hit = next((s for s, a in trainer.curve if a >= t), None)
        if hit is not None:
            reached[t] = hit
    return {
        "recipe": recipe,
        "reached": reached,
        "curve": trainer.curve,
        "accuracy": result.test_accuracy,
        "best": max(a for _, a in trainer.curve) if trainer.curve else 0.0,
        "epochs": len(trainer.curve),
        "seconds": trainer.curve[-1][0] if trainer.curve else 0.0,
        "excluded_s": trainer.excluded,
    }


def race_recipe(recipe: str, targets=RACE_TARGETS, limit=None, epochs=None, device="auto") -> dict:
    """`race_in_process` in a fresh interpreter; adds `whole_s`, the wall time of the whole process less the
    per-epoch tests that `core.train` would not run."""
    cmd = [sys.executable, "-m", "bench.race", recipe, "--device", device, "--targets", *map(str, targets)]
    cmd += ["--limit", str(limit)] if limit else []
    cmd += ["--epochs", str(epochs)] if epochs else []
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["reached"] = {float(t): s for t, s in result["reached"]}
    result["whole_s"] = wall - result["excluded_s"]
    return result


def classic_epoch(limit=None, repeats=1) -> dict:
    """One epoch of the classic loop as written, whole process (fresh interpreter, OpenMP defaults)."""
    from bench.as_written import environment, usual_way_command
    from bench.process import _timed

    extra = ["--limit", str(limit)] if limit else []
    times = [_timed(usual_way_command("--epochs", "1", *extra), environment(openmp_defaults=True))[0]]
    for _ in range(repeats - 1):
        times.append(_timed(usual_way_command("--epochs", "1", *extra), environment(openmp_defaults=True))[0])
    return {"seconds": statistics.median(times), "all": times}


def run(recipes=None, targets=RACE_TARGETS, budget_s=600.0, limit=None, epochs=None, device="auto", log=print) -> dict:
    """The classic loop's epoch and race, then every recipe's race, all in this run."""
    from bench import as_written

    recipes = list(recipes or [r.recipe for r in RUNGS])
    log("race: one classic epoch, whole process ...")
    epoch = classic_epoch(limit=limit)
    log(f"race: the classic loop for up to {budget_s:g} s ...")
    classic = as_written.time_to_accuracy(targets, budget_s, limit=limit)
    rows = []
    for name in recipes:
        log(f"race: {name} ...")
        rows.append(race_recipe(name, targets, limit=limit, epochs=epochs, device=device))
    return {
        "targets": list(targets),
        "budget_s": budget_s,
        "classic_epoch": epoch,
        "classic": classic,
        "recipes": rows,
        "limit": limit,
        "epochs": epochs,
    }


def _cell(run: dict, t: float) -> str:
    s = run["reached"].get(t)
    return f"{s:.0f} s" if s is not None else "—"


def table(race: dict) -> list[str]:
    """The race as markdown: time to each target, final accuracy, whole process against one classic epoch."""
    targets, epoch_s = race["targets"], race["classic_epoch"]["seconds"]
    scope = ""
    if race.get("limit") or race.get("epochs"):
        scope = " (shortened: " + ", ".join(
            part
            for part in (
                f"first {race['limit']:,} images" if race.get("limit") else "",
                f"{race['epochs']} epoch(s) each" if race.get("epochs") else "",
            )
            if part
        )
        scope += "; the rung verdicts need the full recipes)"
    head = " | ".join(f"{t:.0%}" for t in targets)
    out = [
        f"## Race: time to test accuracy{scope}",
        "",
        "Training seconds to the first epoch at or above each accuracy (the test after each epoch is off the "
        f"clock). One epoch of the classic loop as written, whole process: {epoch_s:.1f} s "
        f"(`python -m bench.usual_way --epochs 1`, OpenMP defaults).",
        "",
        f"| way | {head} | final test accuracy | whole process | ÷ one classic epoch | rung | result |",
        "|---|" + "---|" * len(targets) + "---|---|---|---|---|",
    ]
    c = race["classic"]
    cells = " | ".join(_cell(c, t) for t in targets)
    out.append(
        f"| classic loop (budget {race['budget_s']:g} s, {c['epochs']} epochs) | {cells} | "
        f"{c['best']:.2%} (best epoch) | — | — | — | — |"
    )
    for r in race["recipes"]:
        cells = " | ".join(_cell(r, t) for t in targets)
        ratio = r["whole_s"] / epoch_s if epoch_s else None
        step = rung(r["recipe"])
        if step is None:
            verdict, goal = "n/a", "—"
        else:
            goal = f"≥ {step.accuracy:.0%} in {step.limit_text}"
            budget = step.budget(epoch_s)
            full = not (race.get("limit") or race.get("epochs"))
            ok = r["accuracy"] >= step.accuracy and r["whole_s"] <= budget
            verdict = ("PASS" if ok else "FAIL") if full else "n/a"
        out.append(
            f"| `{r['recipe']}` | {cells} | {r['accuracy']:.2%} | {r['whole_s']:.1f} s | "
            f"{ratio:.2f}x | {goal} | {verdict} |"
        )
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.race", description="Race one recipe (JSON on stdout).")
    p.add_argument("recipe")
    p.add_argument("--targets", type=float, nargs="+", default=list(RACE_TARGETS))
    p.add_argument("--limit", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--device", default="auto")
    args = p.parse_args(argv)
    result = race_in_process(args.recipe, args.targets, args.limit, args.epochs, args.device)
    print(json.dumps({**result, "reached": list(result["reached"].items())}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
