"""Where results computed from a checkpoint (evaluations, explanations, projections) are kept on disk.

A run's checkpoint keeps them beside it, in its run folder, so deleting the run deletes them. Shipped
checkpoints and loose files keep them in the user's cache folder, never in the project tree:
FMNIST_CACHE_DIR, else $XDG_CACHE_HOME/fashion-mnist-studio, else ~/.cache/fashion-mnist-studio.
Every cache file also records what it was computed from, so a stale one is recomputed, never trusted.
"""

import contextlib
import hashlib
import io
import os
import threading
import zipfile
from pathlib import Path

import numpy as np

from core.base.files import write_atomic

RUN_MARKER = "config.json"  # every run folder has one (core.io.runs.CONFIG)


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


def version(checkpoint_path) -> tuple[int, int]:
    """What identifies one version of a checkpoint file: its modification time (ns) and size."""
    stat = Path(checkpoint_path).stat()
    return stat.st_mtime_ns, stat.st_size


def write_bytes(file: Path, data: bytes) -> None:
    """Write a cache file atomically, best effort: a read-only folder just means no disk cache."""
    file = Path(file)
    with contextlib.suppress(OSError):
        file.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(file, data)


def write_npz(file: Path, checkpoint_version: tuple[int, int], compress: bool = False, **arrays) -> None:
    """Arrays computed from one checkpoint version, stored with that version (see `read_npz`). `compress` deflates
    them at the fastest level (worth it for large arrays with many zeros; `read_npz` reads either)."""
    buffer = io.BytesIO()
    arrays = {"mtime_ns": checkpoint_version[0], "size": checkpoint_version[1], **arrays}
    if compress:
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            for name, value in arrays.items():
                with archive.open(f"{name}.npy", "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, np.asanyarray(value), allow_pickle=False)
    else:
        np.savez(buffer, **arrays)
    write_bytes(file, buffer.getvalue())


def read_npz(file: Path, checkpoint_version: tuple[int, int]) -> dict | None:
    """The arrays `write_npz` stored, or None when there are none or they belong to another version."""
    try:
        with np.load(file) as z:
            if (int(z["mtime_ns"]), int(z["size"])) != tuple(checkpoint_version):
                return None
            return {name: z[name] for name in z.files}
    except (OSError, ValueError, KeyError):
        return None


class Memo:
    """A small thread-safe in-memory cache shared by every session; the oldest entry goes when it is full."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._items: dict = {}
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            return self._items.get(key)

    def put(self, key, value) -> None:
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = value
            while len(self._items) > self.max_entries:
                self._items.pop(next(iter(self._items)))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
