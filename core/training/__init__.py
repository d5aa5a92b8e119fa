"""Training: config, recipes, the trainer (with resume and TensorBoard logs), background jobs, sweeps and
experiments, run folders, the model catalog, run comparison.

May import everything below it (`core.base`, `core.data`, `core.models`, `core.io`, `core.analysis`).
"""
