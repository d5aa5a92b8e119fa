"""Sweeps: some settings take a list of values; two or more lists make a grid of runs (at most MAX_RUNS).

The sweepable settings are the TrainConfig fields whose record says so, then the architectures' settings
(their records, core.models.common_settings); values are given as text (a comma list, as on the command
line) and parsed to the setting's kind.
"""

import itertools
import math

from core.base.errors import StudioError
from core.base.settings import Setting
from core.models import common_settings
from core.training.config import SETTINGS, TrainConfig

MAX_RUNS = 24


def settings() -> dict[str, Setting]:
    """Every sweepable setting by name: the training's own, in TrainConfig's order, then the architectures'."""
    out = {name: s for name, s in SETTINGS.items() if s.sweepable}
    for name, s in common_settings().items():
        if s.sweepable and name not in SETTINGS:
            out[name] = s
    return out


def is_arch_setting(name: str) -> bool:
    """Whether `name` is an architecture's setting (kept in TrainConfig.arch_settings)."""
    return name not in SETTINGS and name in common_settings()


def parse_value(name: str, text: str):
    """One value of setting `name` from text, e.g. "64" for batch_size or "512-256" for hidden."""
    kind = settings()[name].kind
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
        if kind == "sizes":
            return tuple(int(h) for h in text.replace("x", "-").split("-"))
        if not text:
            raise ValueError
        return text
    except ValueError:
        hint = f" ({name} sizes are written 512-256)" if kind == "sizes" else ""
        raise StudioError(f"{name}: {text!r} is not a valid value{hint}.") from None


def parse_values(name: str, text: str) -> list:
    """A comma list of values of one setting; refuses an empty list, empty items and repeats."""
    if name not in settings():
        raise StudioError(f"{name!r} cannot be swept; choose one of: {', '.join(settings())}.")
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
    arch_settings = dict(values.pop("arch_settings"))
    for name, value in changes.items():
        if is_arch_setting(name):
            arch_settings[name] = value
        else:
            values[name] = value
    if "arch" in changes and changes["arch"] != base.arch:  # another architecture: its own defaults
        arch_settings = {k: v for k, v in arch_settings.items() if k in changes}
    return TrainConfig(**values, arch_settings=arch_settings).validate()


def label(changes: dict) -> str:
    """How a run is named in an experiment: "batch_size=64, lr=0.001"."""
    return ", ".join(f"{k}={show_value(v)}" for k, v in changes.items()) or "base"


def show_value(value) -> str:
    if isinstance(value, (tuple, list)):
        return "-".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)
