"""The dataset: idx files, finding/validating/downloading Fashion-MNIST, splits, augmentation, samples.

Imports only `core.errors`; nothing above it (models, io, analysis, training).
"""
