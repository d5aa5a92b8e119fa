"""python -m bench.run [--quick] [--out FILE.md|FILE.json]: the whole benchmark in one process."""

import core  # noqa: F401  (OMP_WAIT_POLICY=PASSIVE before torch loads)

# isort: split
import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from bench import as_written, latency, memory, models, ours, process, race, usual_way
from bench.ladder import RUNGS
from bench.table import render
from core.base.device import configure_threads, describe_cpu, pick_device
from core.data import dataset

SECTIONS = ("throughput", "accuracy", "race", "quick_demo", "process", "memory", "latency")
RACE_TARGETS = (0.90, 0.91, 0.92, 0.93)


@dataclass
class Settings:
    images: int = 60_000  # per throughput epoch (the second of two is timed)
    archs: tuple = ("mlp", "simple_cnn")
    batches: tuple = (64, 256)
    budget_s: float = 600.0  # training-time budget per way for the accuracy race
    accuracy_limit: int | None = None  # train on the first N images in the race (quick mode)
    process_limit: int | None = None  # --limit for the two whole-process commands
    process_repeats: int = 3  # runs of each whole-process command (median kept)
    repeats: int = 50  # single-image latency calls
    test_repeats: int = 5  # test-set evaluations
    test_images: int | None = None  # test only on the first N test images (latency, race; tests)
    device: str = "auto"
    preset: str = "quick_demo"  # our side of the accuracy race
    race_recipes: tuple = tuple(r.recipe for r in RUNGS)  # the race: each against the classic loop
    race_epochs: int | None = None  # cut every raced recipe to N epochs (quick mode)
    race_seeds: tuple = (None,)  # each raced recipe once per seed (None: the recipe's own)
    sections: tuple = SECTIONS
    mode: str = "full"


QUICK = dict(
    images=4096,
    budget_s=20.0,
    accuracy_limit=6000,
    race_epochs=1,
    process_limit=4096,
    process_repeats=1,
    repeats=20,
    test_repeats=2,
    mode="quick",
)


def machine(device: torch.device) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{describe_cpu()}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), device {device}, load average {load:.1f} at start"
    )


def collect(s: Settings, data=None, log=print) -> dict:
    configure_threads()
    device = pick_device(s.device)
    data = data or dataset.load(allow_download=False)
    results = {"mode": s.mode, "machine": machine(device), "settings": asdict(s)}
    if "throughput" in s.sections:
        train_set, _ = usual_way.datasets_()
        rows = []
        for arch in s.archs:
            for batch in s.batches:
                log(f"throughput {arch} batch {batch} ...")
                row = {
                    "arch": arch,
                    "batch": batch,
                    "usual": usual_way.images_per_s(arch, batch, s.images, train_set, device),
                    "ours": ours.images_per_s(arch, batch, s.images, data, s.device),
                }
                if device.type == "cpu":  # the same loop exactly as written: OpenMP defaults, fresh interpreter
                    row["usual_openmp_defaults"] = as_written.images_per_s(arch, batch, s.images)
                rows.append(row)
        results["throughput"] = rows
    if "accuracy" in s.sections:
        goals = RACE_TARGETS + ((0.95,) if device.type == "cuda" else ())
        log(f"accuracy race, usual way (budget {s.budget_s:g} s) ...")
        if device.type == "cpu":  # as tutorials write it: OpenMP defaults, in a fresh interpreter
            usual = as_written.time_to_accuracy(
                goals, s.budget_s, limit=s.accuracy_limit, test_limit=len(data.test_images)
            )
            how = ", OpenMP defaults"
        else:
            train_set, test_set = usual_way.datasets_()
            usual = usual_way.time_to_accuracy(
                goals,
                s.budget_s,
                train_set,
                test_set,
                limit=s.accuracy_limit,
                device=device,
                test_limit=len(data.test_images),
            )
            how = ""
        log(f"accuracy race, ours (budget {s.budget_s:g} s) ...")
        mine = ours.time_to_accuracy(goals, s.budget_s, data, preset=s.preset, limit=s.accuracy_limit, device=s.device)
        limit = f", first {s.accuracy_limit:,} images" if s.accuracy_limit else ""
        results["accuracy"] = {
            "targets": list(goals),
            "budget_s": s.budget_s,
            "usual": usual,
            "ours": mine,
            "usual_label": f"seed simple_cnn, Adam 1e-3, batch 64, DataLoader{how}{limit}",
            "ours_label": f"Trainer, preset {s.preset}{limit}",
        }
    if "race" in s.sections:
        results["race"] = race.run(
            s.race_recipes,
            budget_s=s.budget_s,
            limit=s.accuracy_limit,
            epochs=s.race_epochs,
            device=s.device,
            log=log,
            seeds=s.race_seeds,
            test_limit=s.test_images,
        )
    if "quick_demo" in s.sections:
        log("quick demo: `python -m core.train` against one epoch of the usual way as written ...")
        results["quick_demo"] = process.quick_demo(limit=s.process_limit, repeats=s.process_repeats)
    if "process" in s.sections:
        log("whole-process comparison ...")
        results["process"] = process.compare(limit=s.process_limit, repeats=s.process_repeats)
    if "memory" in s.sections:
        log("peak RSS ...")
        results["memory"] = memory.measure()
    if "latency" in s.sections:
        log("latency ...")
        loaded = models.bench_models()
        loaded = [(label, m.to(device)) for label, m in loaded]
        test_images = data.test_images[: s.test_images] if s.test_images else None
        results["latency"] = latency.measure(loaded, data, s.repeats, s.test_repeats, test_images)
    return results


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split(":")[1].strip())
    p.add_argument("--quick", action="store_true", help="small numbers: checks the code, figures are rough")
    p.add_argument("--out", help="also write the results: .json for raw numbers, anything else for markdown")
    p.add_argument("--budget", type=float, help="seconds of training per way in the accuracy race (default 600)")
    p.add_argument("--images", type=int, help="images per throughput epoch (default 60000)")
    p.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    p.add_argument("--repeats", type=int, help="runs of each whole-process command (default 3, median kept)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--recipes", nargs="+", help="the recipes the race runs (default: the ladder's rungs)")
    p.add_argument("--seeds", type=int, nargs="+", help="race each recipe once per seed (default: its own seed)")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    s = Settings(**QUICK) if args.quick else Settings()
    s.device = args.device
    if args.budget is not None:
        s.budget_s = args.budget
    if args.images is not None:
        s.images = args.images
    if args.only:
        s.sections = tuple(args.only)
    if args.repeats:
        s.process_repeats = args.repeats
    if args.recipes:
        s.race_recipes = tuple(args.recipes)
    if args.seeds:
        s.race_seeds = tuple(args.seeds)
    results = collect(s, log=lambda m: print(m, file=sys.stderr, flush=True))
    table = render(results)
    print(table)
    if args.out:
        out = Path(args.out)
        out.write_text(json.dumps(results, indent=1, default=str) if out.suffix == ".json" else table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
