"""The dataset: idx files, finding/validating/downloading Fashion-MNIST, splits, augmentation, samples.

Imports only `core.base`; nothing above it (models, io, analysis, training).
"""
