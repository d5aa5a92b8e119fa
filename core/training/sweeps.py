"""Sweeps: some settings take a list of values; two or more lists make a grid of runs (at most MAX_RUNS).

A sweepable setting is any TrainConfig field or architecture setting; values are given as text (a comma
list, as on the command line) and parsed to the setting's type.
"""

import itertools
import math

from core.base.errors import StudioError
from core.training.config import TrainConfig

MAX_RUNS = 24
ARCH_SETTINGS = ("width", "hidden", "dropout", "batch_norm", "activation")
KINDS = {
    "arch": "str",
    "epochs": "int",
    "batch_size": "int",
    "lr": "float",
    "optimizer": "str",
    "momentum": "float",
    "weight_decay": "float",
    "schedule": "str",
    "label_smoothing": "float",
    "augment": "bool",
    "augment_shift": "int",
    "val_fraction": "float",
    "patience": "int",
    "ema": "float",
    "seed": "int",
    "limit": "int",
    "width": "float",
    "hidden": "hidden",
    "dropout": "float",
    "batch_norm": "bool",
    "activation": "str",
}
SWEEPABLE = tuple(KINDS)


def parse_value(name: str, text: str):
    """One value of setting `name` from text, e.g. "64" for batch_size or "512-256" for hidden."""
    kind = KINDS[name]
    text = text.strip()
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
            return value
        if kind == "bool":
            lowered = text.lower()
            if lowered not in ("true", "false", "yes", "no", "on", "off", "1", "0"):
                raise ValueError
            return lowered in ("true", "yes", "on", "1")
        if kind == "hidden":
            return tuple(int(h) for h in text.replace("x", "-").split("-"))
        if not text:
            raise ValueError
        return text
    except ValueError:
        raise StudioError(
            f"{name}: {text!r} is not a valid value{' (hidden sizes are written 512-256)' if kind == 'hidden' else ''}."
        ) from None


def parse_values(name: str, text: str) -> list:
    """A comma list of values of one setting; refuses an empty list, empty items and repeats."""
    if name not in KINDS:
        raise StudioError(f"{name!r} cannot be swept; choose one of: {', '.join(SWEEPABLE)}.")
    items = [item.strip() for item in str(text).split(",")]
    if not any(items):
        raise StudioError(f"{name}: the list of values is empty.")
    if not all(items):
        raise StudioError(f"{name}: {text!r} has an empty value between commas.")
    values = [parse_value(name, item) for item in items]
    if len(set(values)) != len(values):
        raise StudioError(f"{name}: {text!r} lists a value twice.")
    return values


def grid(swept: dict[str, list]) -> list[dict]:
    """Every combination of the swept values, in order; refused (one line saying why) past MAX_RUNS."""
    swept = {k: v for k, v in swept.items() if v}
    count = math.prod(len(v) for v in swept.values())
    if count > MAX_RUNS:
        sizes = " × ".join(f"{len(v)} {k}" for k, v in swept.items())
        raise StudioError(
            f"a grid of {sizes} is {count} runs, more than the {MAX_RUNS} one sweep may start "
            "(each run is a full training on a shared machine); sweep fewer values."
        )
    return [dict(zip(swept, combo)) for combo in itertools.product(*swept.values())]


def apply(base: TrainConfig, changes: dict) -> TrainConfig:
    """A validated copy of `base` with the swept settings changed (architecture settings included)."""
    values = base.to_dict()
    settings = dict(values.pop("arch_settings"))
    for name, value in changes.items():
        if name in ARCH_SETTINGS:
            settings[name] = value
        else:
            values[name] = value
    if "arch" in changes and changes["arch"] != base.arch:  # another architecture: its own defaults
        settings = {k: v for k, v in settings.items() if k in changes}
    return TrainConfig(**values, arch_settings=settings).validate()


def label(changes: dict) -> str:
    """How a run is named in an experiment: "batch_size=64, lr=0.001"."""
    return ", ".join(f"{k}={show_value(v)}" for k, v in changes.items()) or "base"


def show_value(value) -> str:
    if isinstance(value, (tuple, list)):
        return "-".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)
