"""Checkpoints brought in from elsewhere (say, trained on a GPU machine with the command line): validated by
`core.io.checkpoint_import`, then kept in the `imported/` folder of the runs directory, where the catalog
lists them as "imported"."""

import contextlib
import re
import secrets
from pathlib import Path

from core.base.errors import StudioError
from core.base.files import write_atomic
from core.io import checkpoint_import, runs

FOLDER = "imported"


def imported_dir(root=None) -> Path:
    return runs.runs_dir(root) / FOLDER


def import_checkpoint(data: bytes, filename: str, root=None, owner: str | None = None) -> Path:
    """Validate `data` and keep it under a new, safe file name; returns the stored path (the existing one if
    the same owner imported the very same file before). `owner` is the digest of the importing browser's
    secret, kept beside the file (`<file>.owner`) so that browser may rename or delete it after a reload."""
    meta = checkpoint_import.validate(data, Path(filename or "checkpoint").name)
    same = next(
        (
            p
            for p in imported_files(root)
            if owner_of(p) == owner and p.stat().st_size == len(data) and p.read_bytes() == data
        ),
        None,
    )
    if same is not None:  # importing the same file twice keeps one copy
        return same
    stem = _safe(meta.get("name") or Path(filename or "").stem or meta["arch"])
    folder = imported_dir(root)
    path = folder / f"{stem}-{secrets.token_hex(3)}.safetensors"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if owner is not None:  # the owner first: a file is never kept without the record of who may delete it
            write_atomic(_owner_file(path), owner)
        write_atomic(path, data)
    except OSError as e:
        with contextlib.suppress(OSError):
            _owner_file(path).unlink(missing_ok=True)
        raise StudioError(f"cannot store the imported checkpoint in {folder}: {e.strerror or e}.") from None
    return path


def owner_of(path) -> str | None:
    """The digest of the secret of the browser that imported `path` (None: imported without one)."""
    try:
        return _owner_file(Path(path)).read_text().strip() or None
    except OSError:
        return None


def _owner_file(path: Path) -> Path:
    return path.with_name(path.name + ".owner")


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
        _owner_file(path).unlink(missing_ok=True)
    except OSError as e:
        raise StudioError(f"cannot delete {path.name}: {e.strerror or e}.") from None


def _safe(text: str) -> str:
    """A file-name-safe version of a model name (letters, digits, - and _), at most 60 characters."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:60] or "model"
