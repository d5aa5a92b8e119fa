"""Experiments: the runs of one sweep, grouped. Each run's config.json names its experiment; the
experiment's own record (what was swept, the base settings) is runs/experiments/<id>.json.

The results table marks the best run (highest test accuracy) and a generated paragraph states the
measured differences.
"""

import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from core.base.errors import StudioError
from core.io import runs
from core.training import sweeps
from core.training.config import TrainConfig

FOLDER = "experiments"


@dataclass
class Experiment:
    id: str
    name: str
    swept: dict  # setting -> list of values, in the order given
    base: dict  # the settings every run shares (TrainConfig.to_dict())
    labels: list = field(default_factory=list)  # one per planned run: "batch_size=64"
    created: str = ""


def plan(base: TrainConfig, swept: dict[str, list], name: str | None = None) -> tuple[Experiment, list[TrainConfig]]:
    """The experiment and one validated config per grid point (each config names the experiment)."""
    if not swept:
        raise StudioError("a sweep needs at least one setting with a list of values.")
    points = sweeps.grid(swept)
    now = datetime.now()
    exp_id = f"{now:%Y%m%d-%H%M%S}-sweep-{secrets.token_hex(3)}"
    name = (name or "").strip() or default_name(base, swept)
    experiment = Experiment(
        exp_id,
        name,
        {k: list(v) for k, v in swept.items()},
        base.to_dict(),
        [sweeps.label(p) for p in points],
        now.isoformat(timespec="seconds"),
    )
    configs = []
    for point in points:
        config = sweeps.apply(base, point)
        config.experiment = exp_id
        configs.append(config)
    return experiment, configs


def default_name(base: TrainConfig, swept: dict) -> str:
    parts = [f"{k} {', '.join(sweeps.show_value(v) for v in values)}" for k, values in swept.items()]
    return f"{base.arch}: {' × '.join(parts)}"


def save(experiment: Experiment, root=None) -> Path:
    folder = runs.runs_dir(root) / FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{experiment.id}.json"
        runs.write_json(path, _jsonable(asdict(experiment)))
    except OSError as e:
        raise StudioError(f"cannot record the experiment in {folder}: {e.strerror or e}.") from None
    return path


def load(exp_id: str, root=None) -> Experiment | None:
    data = runs.read_json(runs.runs_dir(root) / FOLDER / f"{exp_id}.json")
    if not data:
        return None
    known = Experiment.__dataclass_fields__
    return Experiment(**{k: v for k, v in data.items() if k in known})


def list_experiments(root=None) -> list[Experiment]:
    """Recorded experiments, newest first."""
    folder = runs.runs_dir(root) / FOLDER
    if not folder.is_dir():
        return []
    found = (load(p.stem, root) for p in sorted(folder.glob("*.json"), reverse=True))
    return [e for e in found if e]


def run_folders(exp_id: str, root=None) -> list[Path]:
    """The runs of one experiment, oldest first (the order they were started)."""
    out = [r for r in runs.list_runs(root) if (runs.read_json(r / runs.CONFIG) or {}).get("experiment") == exp_id]
    return sorted(out, key=lambda p: (p / runs.CONFIG).stat().st_mtime_ns)  # names share a second


def changes_of(config: dict, swept: dict) -> dict:
    """The swept settings' values in one run's config."""
    settings = config.get("arch_settings") or {}
    out = {}
    for name in swept:
        value = settings.get(name) if sweeps.is_arch_setting(name) else config.get(name)
        out[name] = tuple(value) if isinstance(value, list) else value
    return out


def table(experiment: Experiment, root=None) -> list[dict]:
    """One row per run: its swept values, status, accuracies, epochs and time; the best run has best=True."""
    rows = []
    for run in run_folders(experiment.id, root):
        config = runs.read_json(run / runs.CONFIG) or {}
        summary = runs.read_json(run / runs.SUMMARY) or {}
        history = runs.read_metrics(run)
        changes = changes_of(config, experiment.swept)
        rows.append(
            {
                "run": run.name,
                "label": sweeps.label(changes),
                **{k: sweeps.show_value(v) for k, v in changes.items()},
                "status": summary.get("status") or ("running or interrupted" if history else "waiting"),
                "test_accuracy": summary.get("test_accuracy"),
                "best_val_accuracy": summary.get("best_val_accuracy"),
                "epochs_run": summary.get("epochs_run", len(history)),
                "seconds": summary.get("seconds"),
                "best": False,
            }
        )
    scored = [r for r in rows if _finished(r)]
    if scored:
        max(scored, key=lambda r: r["test_accuracy"])["best"] = True
    return rows


def summary(experiment: Experiment, rows: list[dict]) -> str:
    """One paragraph with the measured differences, e.g. "batch_size=64 reached 92.10%, 0.80 points above
    batch_size=512, and took 2.3× as long"."""
    scored = [r for r in rows if _finished(r)]
    swept = ", ".join(
        f"{k} ({', '.join(sweeps.show_value(v) for v in values)})" for k, values in experiment.swept.items()
    )
    if not scored:
        return f"This experiment sweeps {swept}; no run has finished yet."
    best = next(r for r in scored if r["best"])
    epochs = experiment.base["epochs"]
    sentences = [
        f"This experiment sweeps {swept} with {experiment.base['arch']} for "
        f"{epochs} epoch{'' if epochs == 1 else 's'}.",
        f"{best['label']} reached the best test accuracy, {best['test_accuracy']:.2%}, "
        f"in {_duration(best['seconds'])}.",
    ]
    for row in sorted((r for r in scored if r is not best), key=lambda r: -r["test_accuracy"]):
        gap = 100 * (best["test_accuracy"] - row["test_accuracy"])
        text = f"{best['label']} was {gap:.2f} points above {row['label']} ({row['test_accuracy']:.2%})"
        if best["seconds"] and row["seconds"]:
            text += (
                f" and took {best['seconds'] / row['seconds']:.1f}× as long ({_duration(best['seconds'])} "
                f"against {_duration(row['seconds'])})"
            )
        sentences.append(text + ".")
    for row in rows:
        if row in scored:
            continue
        if row.get("status") in ("stopped", "diverged"):
            result = f" ({row['test_accuracy']:.2%})" if row.get("test_accuracy") is not None else ""
            sentences.append(
                f"{row['label']} {row['status']} after {row['epochs_run']} "
                f"epoch{'' if row['epochs_run'] == 1 else 's'}{result} and is not compared."
            )
    waiting = len([r for r in rows if r not in scored and r.get("status") not in ("stopped", "diverged")])
    if waiting:
        sentences.append(
            f"{waiting} run{'s' if waiting > 1 else ''} of {len(rows)} "
            f"{'have' if waiting > 1 else 'has'} no test result yet."
        )
    return " ".join(sentences)


def _finished(row: dict) -> bool:
    """A run that trained its course (completed or stopped early by patience) and has a test result."""
    return row.get("test_accuracy") is not None and row.get("status", "completed") in ("completed", "early_stopped")


def _duration(seconds) -> str:
    if seconds is None:
        return "an unknown time"
    if seconds < 10:
        return f"{seconds:.1f} s"
    seconds = round(seconds)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
