"""Architectures for Fashion-MNIST, all behind one registry."""

from core.models.registry import (REGISTRY, Architecture, build, conv_layers, count_parameters, fast_layout,
                                  feature_layers, get)

__all__ = ["REGISTRY", "Architecture", "build", "conv_layers", "count_parameters", "fast_layout", "feature_layers",
           "get"]
