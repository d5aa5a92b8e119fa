"""Files in and out: checkpoints (safetensors, never pickle), uploaded/drawn image preprocessing, caches, run
folders (one per training: config, metrics log, checkpoints).

May import `core.base`, `core.data` and `core.models`; nothing from `core.analysis`, `core.training`,
`core.library` or `core.serving`.
"""
