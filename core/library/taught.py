"""Models taught a class by students, kept in the `taught/` folder of the runs directory.

Each is a checkpoint (core.training.teach) with two small files beside it: `<file>.owner`, the digest of the
secret of the browser that taught it (the same rights as a training: that browser may rename or delete it,
and the teacher may), and `<file>.shared` when the teacher has shared it with the whole class. A taught
model is listed only to the browser that taught it until it is shared (`visible_to`), so a class sees only
what the teacher let through. A model taught on the command line (`python -m core.teach`, `store_shared`) has
no owner and is shared from the start, like a shipped model.
"""

import contextlib
import re
import secrets
from pathlib import Path

from core.base.errors import StudioError
from core.base.files import write_atomic
from core.io import checkpoint, runs
from core.training import teach

FOLDER = "taught"
MAX_NAME = runs.MAX_NAME


def taught_dir(root=None) -> Path:
    return runs.runs_dir(root) / FOLDER


def store(
    taught: "teach.Taught", base: "checkpoint.LoadedModel", owner: str | None, root=None, name: str | None = None
) -> Path:
    """Save a taught model under a new file name in the taught folder, its owner recorded first; returns the path.
    `name` is its display name (default: the base's name + the new class)."""
    folder = taught_dir(root)
    stem = _safe(f"{base.name}-{taught.name}")
    path = folder / f"{stem}-{secrets.token_hex(3)}.safetensors"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if owner is not None:  # the owner first: a model is never kept without the record of who may delete it
            write_atomic(_side(path, "owner"), owner)
        teach.save(taught, base, path, owner=owner, name=name)
    except OSError as e:
        with contextlib.suppress(OSError):
            _side(path, "owner").unlink(missing_ok=True)
        raise StudioError(f"cannot store the taught model in {folder}: {e.strerror or e}.") from None
    return path


def command_line_path(out=None, base_name: str = "model", class_name: str = "class", root=None) -> tuple[Path, bool]:
    """Where `python -m core.teach` writes its model, and whether the model pickers list it. No `out`: a new file
    in the taught folder. An `out` inside the runs directory: the taught folder, under that file name (the one
    place there the pickers read taught models from). Any other `out`: as given, loaded by path only."""
    folder = taught_dir(root)
    if out is None:
        return folder / f"{_safe(f'{base_name}-{class_name}')}-{secrets.token_hex(3)}.safetensors", True
    out = Path(out)
    if not out.resolve().is_relative_to(runs.runs_dir(root).resolve()):
        return out, False
    name = out.name if out.suffix == ".safetensors" else f"{out.name}.safetensors"
    if owner_of(folder / name) is not None:
        raise StudioError(f"{name} is a model a browser taught: choose another --out.")
    return folder / name, True


def store_shared(taught: "teach.Taught", base: "checkpoint.LoadedModel", path) -> Path:
    """Save a model taught on the command line in the taught folder, shared with the whole class: no browser owns
    it, so, like a shipped model, every picker lists it and only the teacher may rename, unshare or delete it.
    A file there that a browser taught is never overwritten."""
    path = Path(path)
    if owner_of(path) is not None:
        raise StudioError(f"{path.name} is a model a browser taught: choose another --out.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        teach.save(taught, base, path)
        write_atomic(_side(path, "shared"), "taught on the command line\n")
    except OSError as e:
        raise StudioError(f"cannot store the taught model in {path.parent}: {e.strerror or e}.") from None
    return path


def taught_files(root=None) -> list[Path]:
    """Taught models, newest first."""
    folder = taught_dir(root)
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.safetensors"), key=lambda p: p.stat().st_mtime, reverse=True)


def owner_of(path) -> str | None:
    """The digest of the secret of the browser that taught `path` (None: taught on the command line)."""
    try:
        return _side(Path(path), "owner").read_text().strip() or None
    except OSError:
        return None


def is_shared(path) -> bool:
    return _side(Path(path), "shared").is_file()


def visible_to(path, viewer: str | None) -> bool:
    """Whether a browser whose secret's digest is `viewer` sees the model (None: whoever may see everything)."""
    return viewer is None or is_shared(path) or owner_of(path) == viewer


def set_shared(path, shared: bool, root=None) -> None:
    """Share a taught model with the whole class, or take it back (the teacher's decision)."""
    path = _checked(path, root)
    try:
        if shared:
            write_atomic(_side(path, "shared"), "shared by the teacher\n")
        else:
            _side(path, "shared").unlink(missing_ok=True)
    except OSError as e:
        raise StudioError(f"cannot change the sharing of {path.name}: {e.strerror or e}.") from None


def rename(path, new_name: str, root=None) -> str:
    """Give a taught model a new display name (kept in its checkpoint)."""
    name = " ".join(str(new_name or "").split())
    if not name:
        raise StudioError("the new name is empty.")
    if len(name) > MAX_NAME:
        raise StudioError(f"the new name is {len(name)} characters; the limit is {MAX_NAME}.")
    checkpoint.update_metadata(_checked(path, root), name=name)
    return name


def delete(path, root=None) -> None:
    path = _checked(path, root)
    try:
        path.unlink()
        for kind in ("owner", "shared"):
            _side(path, kind).unlink(missing_ok=True)
    except OSError as e:
        raise StudioError(f"cannot delete {path.name}: {e.strerror or e}.") from None


def _checked(path, root=None) -> Path:
    path = Path(path)
    if path.parent.resolve() != taught_dir(root).resolve() or path.suffix != ".safetensors" or not path.is_file():
        raise StudioError(f"{path.name} is not a taught model.")
    return path


def _side(path: Path, kind: str) -> Path:
    return path.with_name(f"{path.name}.{kind}")


def _safe(text: str) -> str:
    """A file-name-safe version of a model name (letters, digits, - and _), at most 60 characters."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:60] or "model"
