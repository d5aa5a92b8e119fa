"""Training: config, recipes, the trainer, background jobs, run folders, the model catalog, run comparison.

May import everything below it (`core.data`, `core.models`, `core.io`, `core.analysis`).
"""
