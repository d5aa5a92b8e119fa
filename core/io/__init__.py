"""Files in and out: checkpoints (safetensors, never pickle), uploaded/drawn image preprocessing, caches.

May import `core.base`, `core.data` and `core.models`; nothing from `core.analysis` or `core.training`.
"""
