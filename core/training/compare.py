"""Side-by-side views of training runs: one row of settings and results per run, curves in long form."""

from pathlib import Path

from core.training import runs

HYPERPARAMETERS = ("arch", "arch_settings", "optimizer", "lr", "batch_size", "epochs", "weight_decay", "schedule",
                   "label_smoothing", "augment", "ema", "val_fraction", "patience", "seed", "limit")
RESULTS = ("status", "test_accuracy", "best_val_accuracy", "best_val_loss", "best_epoch", "epochs_run", "seconds")


def describe(run_dir) -> dict:
    """The run's hyperparameters and final metrics in one flat dict; an unfinished run has status 'running'."""
    run_dir = Path(run_dir)
    config = runs.read_json(run_dir / runs.CONFIG) or {}
    summary = runs.read_json(run_dir / runs.SUMMARY) or {}
    row = {"run": run_dir.name}
    for key in HYPERPARAMETERS:
        value = config.get(key)
        if key == "arch_settings":
            value = ", ".join(f"{k}={_short(v)}" for k, v in (value or {}).items())
        row[key] = value
    for key in RESULTS:
        row[key] = summary.get(key)
    row["status"] = summary.get("status") or "running or interrupted"
    if row["epochs_run"] is None:
        row["epochs_run"] = len(runs.read_metrics(run_dir))
    return row


def curves(run_dirs) -> list[dict]:
    """Per-epoch loss and accuracy of each run as rows {run, epoch, metric, split, value}."""
    rows = []
    for run_dir in run_dirs:
        label = Path(run_dir).name
        for record in runs.read_metrics(Path(run_dir)):
            for metric in ("loss", "accuracy"):
                for split in ("train", "val"):
                    value = record.get(f"{split}_{metric}")
                    if value is not None:
                        rows.append({"run": label, "epoch": record["epoch"], "metric": metric,
                                     "split": split, "value": value})
    return rows


def _short(value) -> str:
    if isinstance(value, list):
        return "-".join(str(v) for v in value)
    return str(value)
