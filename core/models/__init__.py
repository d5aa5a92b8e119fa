"""Architectures for Fashion-MNIST, all behind one registry; one file per architecture.

Imports only `core.base`; nothing from data, io, analysis or training.
"""

from core.models.lenet5 import ACTIVATIONS
from core.models.registry import (
    REGISTRY,
    Architecture,
    build,
    conv_layers,
    count_parameters,
    fast_layout,
    feature_layers,
    get,
    set_flip_averaging,
    uses_flip_averaging,
)

__all__ = [
    "ACTIVATIONS",
    "REGISTRY",
    "Architecture",
    "build",
    "conv_layers",
    "count_parameters",
    "fast_layout",
    "feature_layers",
    "get",
    "set_flip_averaging",
    "uses_flip_averaging",
]
