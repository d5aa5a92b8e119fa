"""Training: the one schema of a training (config), named recipes, the trainer (with resume, several
processes, TensorBoard logs and each epoch's filters and histograms) and sweeps (lists of values expanded into configs).

May import `core.base`, `core.data`, `core.models`, `core.io` and `core.analysis`; nothing from
`core.library` or `core.serving`.
"""
