"""Command line: python -m core.sweep --arch resnet18 --optimizer sgd --lr 0.01 --batch-size 64,256,512 --epochs 50

Every `core.train` flag is accepted; any setting may be a comma list of values (booleans as
`--augment=true,false`, MLP hidden sizes as `--hidden 512-256,1024-512`). The runs go one after another
and form one experiment; Ctrl-C stops the current run and keeps the finished ones. With `--ray` they run at
once on Ray (FMNIST_RAY_ADDRESS's cluster, else a local Ray of this command's own; core.serving.ray_runner),
as many in parallel as it has room for; Ctrl-C stops them all, each keeping its best checkpoint.
"""

import signal
import sys
from pathlib import Path
from types import SimpleNamespace

from core.base.errors import StudioError
from core.cli import train
from core.cli.common import friendly_errors, print_json
from core.data import dataset
from core.io import runs
from core.io.checkpoint import command_line
from core.library import experiments
from core.training import sweeps
from core.training.trainer import Trainer

TABLE_COLUMNS = ("status", "test_accuracy", "best_val_accuracy", "epochs_run", "seconds")


def parser():
    p = train.parser()
    p.prog = "python -m core.sweep"
    p.description = (
        "Train one run per combination of the listed values (at most "
        f"{sweeps.MAX_RUNS}) and compare them. Any setting below may be a comma list."
    )
    p.add_argument("--ray", action="store_true", help="run the runs in parallel on Ray (FMNIST_RAY_ADDRESS, or local)")
    return p


def split_lists(argv: list[str], p) -> tuple[list[str], dict]:
    """Take the comma lists out of argv (each replaced by its first value); returns (argv, swept values)."""
    options = {s: a for a in p._actions for s in a.option_strings}
    sweepable = sweeps.settings()
    out, swept, i = [], {}, 0
    while i < len(argv):
        word = argv[i]
        flag, eq, inline = word.partition("=")
        action = options.get(flag)
        if action is None or action.dest not in sweepable:
            out.append(word)
            i += 1
            continue
        if action.nargs == 0:  # --augment / --augment=true,false
            if eq:
                values = sweeps.parse_values(action.dest, inline)
                if len(values) > 1:
                    swept[action.dest] = values
                out.append(flag if values[0] else "--no-" + flag[2:].removeprefix("no-"))
            else:
                out.append(word)
            i += 1
            continue
        raw = inline if eq else (argv[i + 1] if i + 1 < len(argv) else None)
        i += 1 if eq else 2
        if raw is None:
            out.append(flag)
            continue
        values = sweeps.parse_values(action.dest, raw)
        if len(values) > 1:
            swept[action.dest] = values
        first = raw.split(",")[0].strip()
        out += [flag, first.replace("-", ",") if sweepable[action.dest].kind == "sizes" else first]
    return out, swept


def plan(argv: list[str]):
    """(parsed args, experiment, configs) for a command line."""
    p = parser()
    rest, swept = split_lists(list(argv), p)
    args = p.parse_args(rest)
    if args.resume:
        raise StudioError("--resume continues one run; use python -m core.train --resume.")
    if not swept:
        raise StudioError(
            "nothing to sweep: give at least one setting a comma list of values, e.g. --batch-size 64,256."
        )
    base = train.config_from_args(args)
    experiment, configs = experiments.plan(base, swept, name=args.name)
    return args, experiment, configs


def format_run(i: int, total: int, label: str, result) -> str:
    test = f"test {result.test_accuracy:.2%}" if result.test_accuracy is not None else "no test result"
    return (
        f"run {i}/{total}  {label}: {result.status}, {test}, {result.epochs_run} epochs, "
        f"{result.seconds:.1f}s -> {result.run_dir}"
    )


def format_table(rows: list[dict], swept: dict) -> str:
    heads = ["", *swept, *TABLE_COLUMNS]
    lines = [heads]
    for r in rows:
        lines.append(
            [
                "*" if r["best"] else "",
                *(str(r[k]) for k in swept),
                r["status"],
                _pct(r["test_accuracy"]),
                _pct(r["best_val_accuracy"]),
                str(r["epochs_run"]),
                "" if r["seconds"] is None else f"{r['seconds']:.1f}",
            ]
        )
    widths = [max(len(row[c]) for row in lines) for c in range(len(heads))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in lines)


def print_run(args, i: int, total: int, label: str, result) -> None:
    if args.json:
        print_json(
            {
                "event": "run",
                "index": i,
                "label": label,
                "status": result.status,
                "test_accuracy": result.test_accuracy,
                "epochs_run": result.epochs_run,
                "seconds": round(result.seconds, 2),
                "run_dir": str(result.run_dir),
            }
        )
    else:
        print(format_run(i, total, label, result), flush=True)


def _pct(value) -> str:
    return "" if value is None else f"{value:.2%}"


@friendly_errors
def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args, experiment, configs = plan(argv)
    data = dataset.load(args.data_dir)
    experiments.save(experiment, args.out)
    total = len(configs)
    if args.json:
        print_json({"event": "experiment", "id": experiment.id, "name": experiment.name, "runs": experiment.labels})
    else:
        print(f"experiment {experiment.id}: {experiment.name} ({total} runs)", flush=True)
    state = {"trainer": None, "interrupted": False}

    def interrupt(*_):
        state["interrupted"] = True
        if state["trainer"] is not None:
            state["trainer"].stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, interrupt)
    if args.ray:
        from core.serving import ray_runner

        def report(i: int, outcome: dict) -> None:
            result = SimpleNamespace(**{**outcome, "run_dir": Path(outcome["run_dir"])})
            print_run(args, i, total, experiment.labels[i - 1], result)

        names = [f"{experiment.name} · {label}" for label in experiment.labels]
        ray_runner.run_sweep(
            configs, names, data.source, runs.runs_dir(args.out).resolve(), command_line(), report,
            lambda: state["interrupted"],
        )  # fmt: skip
        configs = []  # all ran
    for i, (config, label) in enumerate(zip(configs, experiment.labels), start=1):
        if state["interrupted"]:
            break
        trainer = Trainer(config, data, runs_root=args.out, name=f"{experiment.name} · {label}", command=command_line())
        state["trainer"] = trainer
        if state["interrupted"]:  # Ctrl-C between two runs
            break
        print_run(args, i, total, label, trainer.run())
    rows = experiments.table(experiment, args.out)
    paragraph = experiments.summary(experiment, rows)
    if args.json:
        print_json(
            {
                "event": "end",
                "id": experiment.id,
                "interrupted": state["interrupted"],
                "table": rows,
                "summary": paragraph,
            }
        )
    else:
        if state["interrupted"]:
            print(f"interrupted: {len(rows)} of {total} runs kept")
        print(format_table(rows, experiment.swept))
        print(paragraph)
    return 130 if state["interrupted"] else 0


if __name__ == "__main__":
    sys.exit(main())
