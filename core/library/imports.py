"""Checkpoints brought in from elsewhere (say, trained on a GPU machine with the command line): validated by
`core.io.checkpoint_import`, then kept in the `imported/` folder of the runs directory, where the catalog
lists them as "imported"."""

import re
import secrets
from pathlib import Path

from core.base.errors import StudioError
from core.base.files import write_atomic
from core.io import checkpoint_import, runs

FOLDER = "imported"


def imported_dir(root=None) -> Path:
    return runs.runs_dir(root) / FOLDER


def import_checkpoint(data: bytes, filename: str, root=None) -> Path:
    """Validate `data` and keep it under a new, safe file name; returns the stored path (the existing one if
    the very same file was imported before)."""
    meta = checkpoint_import.validate(data, Path(filename or "checkpoint").name)
    same = next((p for p in imported_files(root) if p.stat().st_size == len(data) and p.read_bytes() == data), None)
    if same is not None:  # importing the same file twice keeps one copy
        return same
    stem = _safe(meta.get("name") or Path(filename or "").stem or meta["arch"])
    folder = imported_dir(root)
    path = folder / f"{stem}-{secrets.token_hex(3)}.safetensors"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    except OSError as e:
        raise StudioError(f"cannot store the imported checkpoint in {folder}: {e.strerror or e}.") from None
    return path


def imported_files(root=None) -> list[Path]:
    """Imported checkpoints, newest first."""
    folder = imported_dir(root)
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.safetensors"), key=lambda p: p.stat().st_mtime, reverse=True)


def delete_imported(path, root=None) -> None:
    path = Path(path)
    if path.parent.resolve() != imported_dir(root).resolve() or path.suffix != ".safetensors":
        raise StudioError(f"{path.name} is not an imported checkpoint.")
    try:
        path.unlink()
    except OSError as e:
        raise StudioError(f"cannot delete {path.name}: {e.strerror or e}.") from None


def _safe(text: str) -> str:
    """A file-name-safe version of a model name (letters, digits, - and _), at most 60 characters."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:60] or "model"
