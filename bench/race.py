"""The race: each recipe of the ladder against the classic loop, time to 90-95% test accuracy.

Each recipe runs as a user starts it, in a fresh interpreter (`python -m bench.race NAME`, which is
`python -m core.train --preset NAME` with the test set evaluated after every epoch, off the clock). It prints
the training seconds at which each target was first reached, every epoch's test accuracy, the accuracy the
run ends with (what `core.train` prints) and the seconds the extra tests took, which the parent subtracts from
the wall time and the CPU time of the whole process. The classic loop (`bench.usual_way`) runs in its own
interpreter too: one epoch as a whole process (the unit of the rungs), as written (OpenMP defaults) and with the
project's OMP_WAIT_POLICY=PASSIVE, and its race.

On a machine shared with other work wall times swing several-fold between minutes; CPU seconds (user + system
of the process) hardly move. So each process's CPU seconds are recorded too, and the CPU-seconds ratio to one
classic epoch with PASSIVE (whose idle threads burn no CPU) is shown beside the wall-time ratio.
"""

import core  # noqa: F401  (OMP_WAIT_POLICY=PASSIVE before torch loads)

# isort: split
import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.ladder import RACE_TARGETS, RUNGS, rung

ROOT = Path(__file__).resolve().parent.parent


def race_in_process(
    recipe: str, targets=RACE_TARGETS, limit=None, epochs=None, device="auto", data=None, seed=None, test_limit=None
) -> dict:
    """Train the recipe with the real Trainer, the whole test set after each epoch (excluded from the times);
    `test_limit`: only the first N test images, there and in the final test (a shortened race)."""
    from dataclasses import replace

    from core.analysis import inference
    from core.data import dataset
    from core.training.recipes import preset_config
    from core.training.trainer import Trainer

    class Timed(Trainer):
        def _record_epoch(self, epoch, eval_model, *a, **kw):
            improved = super()._record_epoch(epoch, eval_model, *a, **kw)
            start, cpu = time.perf_counter(), time.process_time()
            flip, shift = self.config.test_time_flip, self.config.test_time_shift
            accuracy = inference.metrics(
                eval_model, self.data.test_images, self.data.test_labels, flip=flip, shift=shift
            )
            self.excluded += time.perf_counter() - start
            self.excluded_cpu += time.process_time() - cpu
            trained = time.perf_counter() - self.t0 - self.excluded
            self.curve.append((round(trained, 2), accuracy["accuracy"]))
            return improved

    cfg = preset_config(recipe)
    cfg.device = device
    if limit:
        cfg.limit = limit
    if epochs:
        cfg.epochs = epochs
    if seed is not None:
        cfg.seed = seed
    data = data or dataset.load(allow_download=False)
    if test_limit:
        data = replace(data, test_images=data.test_images[:test_limit], test_labels=data.test_labels[:test_limit])
    with tempfile.TemporaryDirectory(prefix="bench-race-") as root:
        trainer = Timed(cfg, data, runs_root=root)
        trainer.excluded, trainer.excluded_cpu, trainer.curve, trainer.t0 = 0.0, 0.0, [], time.perf_counter()
        result = trainer.run()
    reached = {}
    for t in targets:
        hit = next((s for s, a in trainer.curve if a >= t), None)
        if hit is not None:
            reached[t] = hit
    return {
        "recipe": recipe,
        "seed": cfg.seed,
        "reached": reached,
        "curve": trainer.curve,
        "accuracy": result.test_accuracy,
        "best": max(a for _, a in trainer.curve) if trainer.curve else 0.0,
        "epochs": len(trainer.curve),
        "seconds": trainer.curve[-1][0] if trainer.curve else 0.0,
        "excluded_s": trainer.excluded,
        "excluded_cpu_s": trainer.excluded_cpu,
    }


def race_recipe(
    recipe: str, targets=RACE_TARGETS, limit=None, epochs=None, device="auto", seed=None, test_limit=None
) -> dict:
    """`race_in_process` in a fresh interpreter; adds `whole_s` and `whole_cpu_s`, the wall and CPU time of the
    whole process less the per-epoch tests that `core.train` would not run."""
    cmd = [sys.executable, "-m", "bench.race", recipe, "--device", device, "--targets", *map(str, targets)]
    cmd += ["--limit", str(limit)] if limit else []
    cmd += ["--epochs", str(epochs)] if epochs else []
    cmd += ["--seed", str(seed)] if seed is not None else []
    cmd += ["--test-limit", str(test_limit)] if test_limit else []
    wall, cpu, stdout = timed(cmd)
    result = json.loads(stdout.strip().splitlines()[-1])
    result["reached"] = {float(t): s for t, s in result["reached"]}
    result["whole_s"] = wall - result["excluded_s"]
    result["whole_cpu_s"] = cpu - result["excluded_cpu_s"]
    return result


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system of the child) and stdout of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out.stdout


def classic_epoch(limit=None, repeats=1) -> dict:
    """One epoch of the classic loop, whole process in a fresh interpreter: as written (OpenMP defaults) and with
    OMP_WAIT_POLICY=PASSIVE; the medians of `repeats` alternating runs, wall and CPU seconds."""
    from bench.as_written import environment, usual_way_command

    cmd = usual_way_command("--epochs", "1", *(["--limit", str(limit)] if limit else []))
    runs = {"as_written": [], "passive": []}
    for _ in range(repeats):
        runs["as_written"].append(timed(cmd, environment(openmp_defaults=True))[:2])
        runs["passive"].append(timed(cmd, environment(openmp_defaults=False))[:2])
    out = {"all": runs}
    for way, pairs in runs.items():
        prefix = "" if way == "as_written" else "passive_"
        out[f"{prefix}seconds"] = statistics.median(w for w, _ in pairs)
        out[f"{prefix}cpu_s"] = statistics.median(c for _, c in pairs)
    return out


def run(
    recipes=None,
    targets=RACE_TARGETS,
    budget_s=600.0,
    limit=None,
    epochs=None,
    device="auto",
    log=print,
    seeds=(None,),
    test_limit=None,
) -> dict:
    """The classic loop's epoch and race, then every recipe's race (once per seed; None is the recipe's own), all
    in this run; `limit`, `epochs` and `test_limit` (the first N test images) shorten it."""
    from bench import as_written

    recipes = list(recipes or [r.recipe for r in RUNGS])
    log("race: one classic epoch, whole process ...")
    epoch = classic_epoch(limit=limit)
    log(f"race: the classic loop for up to {budget_s:g} s ...")
    classic = as_written.time_to_accuracy(targets, budget_s, limit=limit, test_limit=test_limit)
    rows = []
    for name in recipes:
        for seed in seeds:
            log(f"race: {name}" + ("" if seed is None else f", seed {seed}") + " ...")
            rows.append(
                race_recipe(name, targets, limit=limit, epochs=epochs, device=device, seed=seed, test_limit=test_limit)
            )
    return {
        "targets": list(targets),
        "budget_s": budget_s,
        "classic_epoch": epoch,
        "classic": classic,
        "recipes": rows,
        "seeds": list(seeds),
        "limit": limit,
        "epochs": epochs,
        "test_limit": test_limit,
    }


def _cell(run: dict, t: float) -> str:
    s = run["reached"].get(t)
    return f"{s:.0f} s" if s is not None else "—"


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def table(race: dict) -> list[str]:
    """The race as markdown: time to each target, final accuracy, whole process against one classic epoch (wall
    time against the loop as written; CPU seconds against the loop with PASSIVE)."""
    targets, epoch = race["targets"], race["classic_epoch"]
    epoch_s, epoch_cpu = epoch["seconds"], epoch.get("passive_cpu_s")
    full = not (race.get("limit") or race.get("epochs") or race.get("test_limit"))
    scope = ""
    if not full:
        parts = [f"first {race['limit']:,} images" if race.get("limit") else ""]
        parts.append(f"{race['epochs']} epoch(s) each" if race.get("epochs") else "")
        parts.append(f"tested on the first {race['test_limit']:,} test images" if race.get("test_limit") else "")
        scope = f" (shortened: {', '.join(p for p in parts if p)}; the rung verdicts need the full recipes)"
    head = " | ".join(f"{t:.0%}" for t in targets)
    passive = (
        f"; with OMP_WAIT_POLICY=PASSIVE {epoch['passive_seconds']:.1f} s, {epoch_cpu:.1f} CPU s" if epoch_cpu else ""
    )
    out = [
        f"## Race: time to test accuracy{scope}",
        "",
        "Training seconds to the first epoch at or above each accuracy (the test after each epoch is off the "
        "clock). One epoch of the classic loop, whole process (`python -m bench.usual_way --epochs 1`): as "
        f"written (OpenMP defaults) {epoch_s:.1f} s{passive}. A rung passes on wall time against the loop as "
        "written; the CPU-seconds verdict (against PASSIVE; a minutes rung against 2 cores busy for that long) "
        "is the one a busy machine cannot bend.",
        "",
        f"| way | {head} | final test accuracy | whole process | CPU s | ÷ classic epoch | ÷ classic epoch, "
        "CPU s | rung | result | result, CPU s |",
        "|---|" + "---|" * len(targets) + "---|---|---|---|---|---|---|---|",
    ]
    c = race["classic"]
    cells = " | ".join(_cell(c, t) for t in targets)
    out.append(
        f"| classic loop (budget {race['budget_s']:g} s, {c['epochs']} epochs) | {cells} | "
        f"{c['best']:.2%} (best epoch) | — | — | — | — | — | — | — |"
    )
    for r in race["recipes"]:
        cells = " | ".join(_cell(r, t) for t in targets)
        cpu = r.get("whole_cpu_s")
        ratio = r["whole_s"] / epoch_s
        cpu_ratio = cpu / epoch_cpu if cpu and epoch_cpu else None
        step = rung(r["recipe"])
        goal, by_wall, by_cpu = "—", None, None
        if step is not None:
            goal = f"≥ {step.accuracy:.0%} in {step.limit_text}"
            accurate = r["accuracy"] >= step.accuracy
            if full:
                by_wall = accurate and r["whole_s"] <= step.budget(epoch_s)
                if cpu is not None:
                    cpu_budget = step.minutes * 60 * 2 if step.minutes else step.budget(epoch_cpu)
                    by_cpu = None if cpu_budget is None else accurate and cpu <= cpu_budget
        seed = f", seed {r['seed']}" if any(x is not None for x in race.get("seeds", [None])) else ""
        out.append(
            f"| `{r['recipe']}`{seed} | {cells} | {r['accuracy']:.2%} | {r['whole_s']:.1f} s | "
            f"{'—' if cpu is None else f'{cpu:.1f}'} | {ratio:.2f}x | "
            f"{'—' if cpu_ratio is None else f'{cpu_ratio:.2f}x'} | {goal} | {_verdict(by_wall)} | "
            f"{_verdict(by_cpu)} |"
        )
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.race", description="Race one recipe (JSON on stdout).")
    p.add_argument("recipe")
    p.add_argument("--targets", type=float, nargs="+", default=list(RACE_TARGETS))
    p.add_argument("--limit", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int)
    p.add_argument("--test-limit", type=int, help="test on the first N test images only")
    args = p.parse_args(argv)
    result = race_in_process(
        args.recipe, args.targets, args.limit, args.epochs, args.device, seed=args.seed, test_limit=args.test_limit
    )
    print(json.dumps({**result, "reached": list(result["reached"].items())}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
