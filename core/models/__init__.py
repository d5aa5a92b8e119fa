"""Architectures for Fashion-MNIST, all behind one registry; one file per architecture, each declaring
itself (`register_model`) with its settings. Importing this package imports every file in it, so a new
architecture is one new file: the registry lists the shipped ones in LISTED_FIRST's order, then any other by
file name.

Imports only `core.base`; nothing from data, io, analysis or training.
"""

import importlib
import pkgutil

from core.base.settings import Setting
from core.models.flip import (
    FlipAveraged,
    network_of,
    set_flip_averaging,
    uses_flip_averaging,
    uses_shift_averaging,
)
from core.models.head import output_count, output_layer, with_outputs
from core.models.registry import (
    REGISTRY,
    Architecture,
    build,
    common_settings,
    conv_layers,
    count_parameters,
    fast_layout,
    feature_layers,
    get,
    register,
    register_model,
    unregister,
)

# How the registry lists the shipped architectures (simplest first); a new file is listed after them.
LISTED_FIRST = ("linear", "mlp", "simple_cnn", "two_conv", "lenet5", "resnet18", "fast_cnn")


def _files_in_listing_order() -> list[str]:
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    return sorted(names, key=lambda n: (LISTED_FIRST.index(n) if n in LISTED_FIRST else len(LISTED_FIRST), n))


for _file in _files_in_listing_order():  # each architecture file registers itself when imported
    importlib.import_module(f"core.models.{_file}")

from core.models.lenet5 import ACTIVATIONS  # noqa: E402

__all__ = [
    "ACTIVATIONS",
    "LISTED_FIRST",
    "REGISTRY",
    "Architecture",
    "FlipAveraged",
    "Setting",
    "build",
    "common_settings",
    "conv_layers",
    "count_parameters",
    "fast_layout",
    "feature_layers",
    "get",
    "network_of",
    "output_count",
    "output_layer",
    "register",
    "register_model",
    "set_flip_averaging",
    "uses_shift_averaging",
    "unregister",
    "uses_flip_averaging",
    "with_outputs",
]
