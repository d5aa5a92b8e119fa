"""Where results computed from a checkpoint (evaluations, explanations, projections) are kept on disk.

A run's checkpoint keeps them beside it, in its run folder, so deleting the run deletes them. Shipped
checkpoints and loose files keep them in the user's cache folder, never in the project tree:
FMNIST_CACHE_DIR, else $XDG_CACHE_HOME/fashion-mnist-studio, else ~/.cache/fashion-mnist-studio.
Every cache file also records what it was computed from, so a stale one is recomputed, never trusted.
"""

import hashlib
import os
from pathlib import Path

RUN_MARKER = "config.json"   # every run folder has one (core.training.runs.CONFIG)


def cache_dir() -> Path:
    explicit = os.environ.get("FMNIST_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fashion-mnist-studio"


def in_run_folder(checkpoint_path) -> bool:
    return (Path(checkpoint_path).parent / RUN_MARKER).is_file()


def cache_file(checkpoint_path, suffix: str) -> Path:
    """The cache file for `checkpoint_path` ending in `suffix` (e.g. ".eval.npz")."""
    path = Path(checkpoint_path).resolve()
    if in_run_folder(path):
        return path.with_name(path.stem + suffix)
    key = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    return cache_dir() / f"{path.stem}-{key}{suffix}"
