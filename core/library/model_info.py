"""What a checkpoint says about how it was made, as (field, text) rows for the Models page: the recipe,
the metrics, the training time, the hardware and the command that reproduces it."""

from pathlib import Path

from core.base.errors import StudioError
from core.io import class_sources
from core.models import get

RECIPE = [
    ("epochs", "epochs"),
    ("batch_size", "batch size"),
    ("optimizer", "optimizer"),
    ("lr", "learning rate"),
    ("schedule", "schedule"),
    ("weight_decay", "weight decay"),
    ("label_smoothing", "label smoothing"),
    ("augment", "augmentation"),
    ("augment_shift", "shift (px)"),
    ("augment_erase", "random erasing"),
    ("ema", "EMA"),
    ("test_time_flip", "test-time flip"),
    ("test_time_shift", "test-time shifts"),
    ("seed", "seed"),
]


def details(metadata: dict, path=None) -> list[tuple[str, str]]:
    """Readable rows; fields the checkpoint does not record are left out."""
    rows = []
    arch = metadata.get("arch", "")
    try:
        rows.append(("architecture", get(arch).display_name))
    except StudioError:
        rows.append(("architecture", arch))
    settings = metadata.get("arch_settings") or {}
    if settings:
        rows.append(("settings", ", ".join(f"{k} {_value(v)}" for k, v in settings.items())))
    rows += _classes(metadata)
    metrics = metadata.get("metrics") or {}
    for key, label in [
        ("test_accuracy", "test accuracy"),
        ("test_accuracy_before", "test accuracy before it was taught"),
        ("held_out_accuracy", "held-out examples of the taught class right"),
        ("test_shirt_accuracy", "Shirt accuracy (test)"),
        ("val_accuracy", "best validation accuracy"),
    ]:
        if isinstance(metrics.get(key), (int, float)):
            rows.append((label, f"{metrics[key]:.2%}"))
    if metrics.get("best_epoch") is not None:
        rows.append(("best epoch", f"{metrics['best_epoch']} of {metadata.get('epochs_run', '?')}"))
    config = metadata.get("config") or {}
    recipe = [f"{label} {_value(config[key])}" for key, label in RECIPE if key in config]
    if recipe:
        rows.append(("recipe", ", ".join(recipe)))
    if isinstance(metadata.get("training_seconds"), (int, float)):
        rows.append(("training time", duration(metadata["training_seconds"])))
    if metadata.get("device"):
        rows.append(("hardware", str(metadata["device"])))
    if metadata.get("command"):
        rows.append(("command", str(metadata["command"])))
    if metadata.get("created_at"):
        rows.append(("saved", str(metadata["created_at"]).replace("T", " ")))
    versions = metadata.get("versions") or {}
    if versions:
        rows.append(("software", ", ".join(f"{k} {v}" for k, v in versions.items() if v)))
    rows.append(("weights", str(metadata.get("dtype", "float32"))))
    if path is not None and Path(path).is_file():
        rows.append(("file size", f"{Path(path).stat().st_size / 1e6:.1f} MB"))
    return rows


def _classes(metadata: dict) -> list[tuple[str, str]]:
    """For a model taught extra classes: its classes, where each came from, and what it was taught from."""
    taught = class_sources.taught(metadata)
    if not taught:
        return []
    names, sources = class_sources.names(metadata), class_sources.sources(metadata)
    rows = [("classes", f"{len(names)}: Fashion-MNIST's ten, " + ", ".join(names[i] for i in taught))]
    rows += [(f"class {names[i]}", class_sources.describe(sources[i])) for i in taught]
    base = metadata.get("taught_from") or {}
    if base.get("name"):
        rows.append(("taught from", str(base["name"])))
    return rows


def duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _value(v) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, list):
        return "-".join(map(str, v))
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)
