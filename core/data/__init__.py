"""The dataset: idx files, finding/validating/downloading Fashion-MNIST, splits, augmentation, samples,
label noise and data budgets.

Imports only `core.base`; nothing above it (models, io, analysis, training).
"""
