"""Architectures for Fashion-MNIST, all behind one registry."""

from core.models.registry import (REGISTRY, Architecture, build, conv_layers, count_parameters,
                                  feature_layers, get, fast_layout)

__all__ = ["REGISTRY", "Architecture", "build", "conv_layers", "count_parameters", "feature_layers", "get", "fast_layout"]
