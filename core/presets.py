"""Tuned training recipes, one per architecture, used for the shipped checkpoints."""

from core.config import TrainConfig
from core.errors import StudioError

PRESETS: dict[str, dict] = {
    # The default simple_cnn recipe: seed sizes, Adam, one-cycle; quick on a CPU.
    "simple_cnn_fast": dict(arch="simple_cnn", epochs=8, batch_size=128, lr=3e-3, optimizer="adam",
                            schedule="onecycle"),
}


def preset_config(name: str) -> TrainConfig:
    try:
        values = PRESETS[name]
    except KeyError:
        raise StudioError(f"unknown preset {name!r}; choose one of: {', '.join(sorted(PRESETS))}.") from None
    values = dict(values)
    values["arch_settings"] = dict(values.get("arch_settings", {}))
    return TrainConfig(**values)
