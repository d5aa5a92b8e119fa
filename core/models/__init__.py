"""Architectures for Fashion-MNIST, all behind one registry; one file per architecture, each declaring
itself (`register_model`) with its settings. Importing this package registers every file of
ARCHITECTURE_FILES, in that order.

Imports only `core.base`; nothing from data, io, analysis or training.
"""

import importlib

from core.base.settings import Setting
from core.models.flip import FlipAveraged, network_of, set_flip_averaging, uses_flip_averaging
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

# The architecture files, in the order the registry lists them: each registers itself when imported.
ARCHITECTURE_FILES = ("linear", "mlp", "simple_cnn", "two_conv", "lenet5", "resnet18", "fast_cnn")
for _file in ARCHITECTURE_FILES:
    importlib.import_module(f"core.models.{_file}")

from core.models.lenet5 import ACTIVATIONS  # noqa: E402

__all__ = [
    "ACTIVATIONS",
    "ARCHITECTURE_FILES",
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
    "unregister",
    "uses_flip_averaging",
    "with_outputs",
]
