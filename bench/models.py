"""The models to time: every shipped checkpoint, plus a fresh model (each preset's settings) for every
architecture with no shipped checkpoint, so each architecture is always measured."""

import torch

from core.io import checkpoint
from core.library import catalog
from core.models import REGISTRY, build, get
from core.training.recipes import PRESETS


def preset_settings(arch: str) -> dict:
    """The full settings of the architecture's preset (what a shipped checkpoint would have)."""
    return get(arch).settings(dict(PRESETS[arch]["arch_settings"]) if arch in PRESETS else {})


def missing_archs(entries) -> list[str]:
    shipped = {e.arch for e in entries}
    return [arch for arch in REGISTRY if arch not in shipped]


def bench_models(folder=None) -> list[tuple[str, torch.nn.Module]]:
    """[(label, model in eval mode)]; labels start with the architecture and say shipped or fresh."""
    entries = catalog.shipped_models(folder)
    out = [(f"{e.arch} (shipped {e.path.stem})", checkpoint.load(e.path).model) for e in entries]
    torch.manual_seed(0)
    return out + [(f"{arch} (fresh)", build(arch, preset_settings(arch)).eval()) for arch in missing_archs(entries)]
