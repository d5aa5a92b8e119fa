"""Side-by-side views of training runs: one row of settings and results per run, any recorded metric in long form.

A "source" is a run folder or a shipped checkpoint. A shipped checkpoint's per-epoch history, when it was
recorded, lies beside it as `<name>.metrics.jsonl` (the metrics log of the run it came from).
"""

import json
from pathlib import Path

from core.io import runs
from core.library import catalog, experiments, pins

HYPERPARAMETERS = (
    "arch",
    "arch_settings",
    "optimizer",
    "lr",
    "batch_size",
    "epochs",
    "weight_decay",
    "schedule",
    "label_smoothing",
    "augment",
    "augment_erase",
    "ema",
    "val_fraction",
    "patience",
    "seed",
    "limit",
    "label_noise",
    "label_noise_kind",
    "per_class",
    "classes",
    "drop_suspects",
)
RESULTS = ("status", "test_accuracy", "best_val_accuracy", "best_val_loss", "best_epoch", "epochs_run", "seconds")
METRICS = {
    "val_accuracy": "validation accuracy",
    "val_loss": "validation loss",
    "train_accuracy": "training accuracy",
    "train_loss": "training loss",
    "lr": "learning rate",
    "images_per_s": "images per second",
    "seconds": "seconds per epoch",
}
X_AXES = {"epoch": "epoch", "elapsed": "training time (s)"}
SHIPPED_GROUP = "shipped"
TAUGHT_GROUP = "taught"  # models taught a class (core.training.teach): no per-epoch history


def describe(run_dir) -> dict:
    """The run's hyperparameters and final metrics in one flat dict; an unfinished run has status 'running'."""
    run_dir = Path(run_dir)
    config = runs.read_json(run_dir / runs.CONFIG) or {}
    summary = runs.read_json(run_dir / runs.SUMMARY) or {}
    row = {"run": run_dir.name, **_settings(config)}
    for key in RESULTS:
        row[key] = summary.get(key)
    row["status"] = summary.get("status") or "running or interrupted"
    if row["epochs_run"] is None:
        row["epochs_run"] = len(runs.read_metrics(run_dir))
    row["experiment"] = config.get("experiment")
    return row


def describe_shipped(entry: "catalog.ModelEntry") -> dict:
    """A shipped checkpoint as a row: the settings and results recorded in its metadata."""
    meta = entry.metadata
    metrics = meta.get("metrics", {})
    row = {
        "run": f"shipped: {entry.name}",
        **_settings({**meta.get("config", {}), "arch": entry.arch, "arch_settings": meta.get("arch_settings", {})}),
    }
    row.update(
        status="shipped",
        test_accuracy=metrics.get("test_accuracy"),
        best_val_accuracy=metrics.get("val_accuracy"),
        best_val_loss=metrics.get("val_loss"),
        best_epoch=metrics.get("best_epoch"),
        epochs_run=meta.get("epochs_run"),
        seconds=meta.get("training_seconds"),
        experiment=SHIPPED_GROUP,
    )
    return row


def shipped_history_path(checkpoint_path) -> Path:
    path = Path(checkpoint_path)
    return path.with_name(path.stem + ".metrics.jsonl")


def history(source) -> list[dict]:
    """Per-epoch records of a run folder, or of a shipped checkpoint (empty when none was recorded)."""
    source = Path(source)
    if source.is_dir():
        return runs.read_metrics(source)
    return runs.read_jsonl(shipped_history_path(source))


def describe_taught(entry: "catalog.ModelEntry") -> dict:
    """A model taught a class as a row: the settings of the model it was taught from, its results after teaching."""
    return {**describe_shipped(entry), "run": f"taught: {entry.name}", "status": "taught", "experiment": TAUGHT_GROUP}


def sources(runs_root=None, shipped_folder=None, viewer: str | None = None) -> dict[str, dict]:
    """Every comparable source by its row label: {"path", "row", "group", "pinned"}; groups are experiment ids,
    "shipped", "taught", or None (a single run); "pinned" says the teacher pinned the run for everyone
    (core.library.pins). Runs newest first, then the shipped models, then the taught models `viewer` may see
    (core.library.catalog.taught_models)."""
    out = {}
    pinned = set(pins.pinned(runs_root))
    for run in runs.list_runs(runs_root):
        row = describe(run)
        out[row["run"]] = {"path": run, "row": row, "group": row["experiment"], "pinned": run.name in pinned}
    for entry in catalog.shipped_models(shipped_folder):
        row = describe_shipped(entry)
        out[row["run"]] = {"path": entry.path, "row": row, "group": SHIPPED_GROUP}
    for entry in catalog.taught_models(runs_root, viewer):
        row = describe_taught(entry)
        out[row["run"]] = {"path": entry.path, "row": row, "group": TAUGHT_GROUP}
    return out


def groups(found: dict[str, dict], runs_root=None) -> dict[str, str]:
    """Group id -> display name: each recorded experiment with runs, then the shipped models."""
    present = {s["group"] for s in found.values()}
    out = {e.id: f"Experiment: {e.name}" for e in experiments.list_experiments(runs_root) if e.id in present}
    if SHIPPED_GROUP in present:
        out[SHIPPED_GROUP] = "Shipped models"
    if TAUGHT_GROUP in present:
        out[TAUGHT_GROUP] = "Models taught a class"
    return out


def curves(sources_by_label: dict, metric: str | None = None, x: str = "epoch") -> list[dict]:
    """Rows {run, epoch, x, metric, split, value} of each source's history. Without `metric`: loss and
    accuracy, train and validation (metric "loss"/"accuracy", split "train"/"val"); with one: that metric."""
    rows = []
    for label, source in sources_by_label.items():
        for record in history(source):
            position = record.get(x, record["epoch"]) if x != "epoch" else record["epoch"]
            if metric is None:
                pairs = [(f"{split}_{m}", m, split) for m in ("loss", "accuracy") for split in ("train", "val")]
            else:
                pairs = [(metric, metric, None)]
            for key, name, split in pairs:
                value = record.get(key)
                if value is not None and not record.get("partial"):
                    rows.append(
                        {
                            "run": label,
                            "epoch": record["epoch"],
                            "x": position,
                            "metric": name,
                            "split": split,
                            "value": value,
                        }
                    )
    return rows


def differing(rows: list[dict], keys=HYPERPARAMETERS) -> list[str]:
    """The hyperparameters whose values are not all the same across `rows`."""
    return [k for k in keys if len({json.dumps(r.get(k), sort_keys=True, default=str) for r in rows}) > 1]


def _settings(config: dict) -> dict:
    row = {}
    for key in HYPERPARAMETERS:
        value = config.get(key)
        if key == "arch_settings":
            value = ", ".join(f"{k}={_short(v)}" for k, v in (value or {}).items())
        row[key] = value
    return row


def _short(value) -> str:
    if isinstance(value, list):
        return "-".join(str(v) for v in value)
    return str(value)
