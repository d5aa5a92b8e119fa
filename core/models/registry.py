"""The one registry of architectures. Each architecture declares itself in its own file with
`register_model` (as torchvision's `register_model` does): display name, teaching text, builder and its
settings as `Setting` records (kind, choices or range, default, help). Validation, the command line's
flags, sweeps and the Train form read those records.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import torch
from torch import nn

from core.base.errors import StudioError
from core.base.settings import Setting
from core.models.flip import network_of


@dataclass(frozen=True)
class Architecture:
    name: str
    display_name: str
    description: str
    builder: Callable[..., nn.Module]
    schema: tuple[Setting, ...] = ()  # its settings, in the order a form shows them
    cpu_bf16: bool = False  # bfloat16 autocast trains it measurably faster on a CPU with native bf16

    @property
    def defaults(self) -> dict:
        return {s.name: s.default for s in self.schema}

    def setting(self, name: str) -> Setting:
        return next(s for s in self.schema if s.name == name)

    def build(self, **settings) -> nn.Module:
        return self.builder(**self.settings(settings))

    def settings(self, overrides: dict | None = None) -> dict:
        """Defaults merged with overrides, each checked by its record and normalised (whole widths as int,
        hidden sizes as a tuple); unknown keys are refused."""
        overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            allowed = ", ".join(sorted(self.defaults)) or "none"
            raise StudioError(f"{self.name} has no setting {unknown[0]!r} (its settings: {allowed}).")
        merged = {**self.defaults, **overrides}
        for s in self.schema:
            s.check(merged[s.name], owner=self.name)
        return {s.name: s.normalise(merged[s.name]) for s in self.schema}

    def parameter_count(self, **settings) -> int:
        return count_parameters(self.build(**settings))


REGISTRY: dict[str, Architecture] = {}  # filled by the architecture files, which core.models imports


def register(arch: Architecture) -> Architecture:
    """Add an architecture to the registry (its name must be new)."""
    if arch.name in REGISTRY:
        raise StudioError(f"architecture {arch.name!r} is registered twice.")
    REGISTRY[arch.name] = arch
    return arch


def unregister(name: str) -> None:
    """Remove an architecture (for tests that register a throwaway one)."""
    REGISTRY.pop(name, None)


def register_model(
    name: str, display_name: str, description: str, settings: Iterable[Setting] = (), cpu_bf16: bool = False
):
    """Decorator for the nn.Module class (or function) that builds an architecture: registers it with its
    settings, which the builder takes as keyword arguments."""

    def decorate(builder):
        register(Architecture(name, display_name, description, builder, tuple(settings), cpu_bf16))
        return builder

    return decorate


def common_settings() -> dict[str, Setting]:
    """Every architecture setting by name, as one record for the command line and sweeps: the first
    declaration's wording, the union of the choices, a fraction where any architecture takes one, and which
    architectures have it at the end of the help text."""
    found: dict[str, list[tuple[str, Setting]]] = {}
    for arch in REGISTRY.values():
        for s in arch.schema:
            found.setdefault(s.name, []).append((arch.name, s))
    out = {}
    for name, pairs in found.items():
        first = pairs[0][1]
        kinds = {s.kind for _, s in pairs}
        kind = "float" if kinds <= {"int", "float"} and len(kinds) > 1 else first.kind
        choices = tuple(dict.fromkeys(c for _, s in pairs for c in s.options))
        archs = ", ".join(a for a, _ in pairs)
        out[name] = replace(
            first,
            kind=kind,
            choices=choices,
            whole=all(s.whole for _, s in pairs),
            sweepable=any(s.sweepable for _, s in pairs),
            help=f"{first.help} ({archs})",
        )
    return out


# Settings several architectures share; each architecture picks them with its own default and choices.


def width_setting(default=1, suggested=(1, 2, 4), whole: bool = True, cap: float = 8) -> Setting:
    """The channel multiplier: whole for the small CNNs (channel counts are 6 x width ...), any fraction for
    ResNet-18 (channels are rounded); at most `cap`, the largest the Train form offers."""
    return Setting(
        "width",
        "float",
        default,
        "multiplies the number of channels in every convolution",
        label="Width (channel multiplier)",
        low=0,
        low_open=True,
        whole=whole,
        rule="must be a whole number (1, 2, 4, ...)" if whole else "must be a positive number",
        suggested=tuple(suggested),
        cap=cap,
        sweepable=True,
    )


def dropout_setting(default: float) -> Setting:
    return Setting(
        "dropout",
        "float",
        default,
        "share of units switched off at random in each training step",
        low=0,
        high=1,
        high_open=True,
        step=0.05,
        usual_high=0.8,
        sweepable=True,
    )


def batch_norm_setting(default: bool) -> Setting:
    return Setting(
        "batch_norm",
        "bool",
        default,
        "normalise each layer's outputs over the batch: faster, steadier",
        sweepable=True,
    )


def get(name: str) -> Architecture:
    try:
        return REGISTRY[name]
    except KeyError:
        raise StudioError(f"unknown architecture {name!r}; choose one of: {', '.join(REGISTRY)}.") from None


def build(name: str, settings: dict | None = None) -> nn.Module:
    return get(name).build(**(settings or {}))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def feature_layers(model: nn.Module) -> list[str]:
    """Names of the network's convolution and pooling modules, in forward order (empty for an MLP); names in
    the network itself for a FlipAveraged model."""
    kinds = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)
    modules = network_of(model).named_modules()
    return [name for name, m in modules if isinstance(m, kinds) and not _is_shortcut(name)]


def conv_layers(model: nn.Module) -> list[str]:
    """Names of the network's convolution modules, in forward order."""
    modules = network_of(model).named_modules()
    return [name for name, m in modules if isinstance(m, nn.Conv2d) and not _is_shortcut(name)]


def _is_shortcut(name: str) -> bool:
    return ".shortcut" in name


def fast_layout(model: nn.Module, device) -> torch.memory_format:
    """The memory format to keep `model` (and its inputs) in on `device`: channels-last for a
    convolutional model on a CPU or CUDA, where oneDNN and cuDNN run convolutions faster that way (on a
    2-core CPU simple_cnn trains 1.2x and evaluates the test set 2x faster); else the usual layout."""
    if torch.device(device).type in ("cpu", "cuda") and conv_layers(model):
        return torch.channels_last
    return torch.contiguous_format
