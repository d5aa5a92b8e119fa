"""The models a user can pick: shipped checkpoints, the best checkpoint of each finished run, imported
checkpoints, and models students taught a class (each listed to its owner, or to all once shared)."""

from dataclasses import dataclass
from pathlib import Path

from core.base.errors import CheckpointError
from core.io import class_sources, runs
from core.io.checkpoint import read_metadata
from core.library import imports, taught

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "checkpoints"


@dataclass(frozen=True)
class ModelEntry:
    name: str  # shown to the user
    path: Path
    arch: str
    source: str  # "shipped", "run", "imported" or "taught"
    test_accuracy: float | None
    metadata: dict

    @property
    def class_names(self) -> tuple[str, ...]:
        return class_sources.names(self.metadata)

    @property
    def label(self) -> str:
        acc = f" — test {self.test_accuracy:.2%}" if self.test_accuracy is not None else ""
        return f"{self.name} ({self.source}){acc}"


_known: dict[tuple, ModelEntry | None] = {}  # (path, source, size, mtime): every page lists the models on each run
MAX_KNOWN = 512


def _entry(path: Path, source: str) -> ModelEntry | None:
    """The entry of one checkpoint (None if its header fails the checks), read again only when the file changes."""
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path), source, stat.st_size, stat.st_mtime_ns)
    if key not in _known:
        if len(_known) >= MAX_KNOWN:
            _known.clear()
        _known[key] = _read_entry(path, source)
    return _known[key]


def _read_entry(path: Path, source: str) -> ModelEntry | None:
    try:
        meta = read_metadata(path)
    except CheckpointError:
        return None
    name = meta.get("name") or path.stem
    return ModelEntry(name, path, meta["arch"], source, meta.get("metrics", {}).get("test_accuracy"), meta)


def shipped_models(folder=None) -> list[ModelEntry]:
    folder = Path(folder or SHIPPED_DIR)
    entries = (_entry(p, "shipped") for p in sorted(folder.glob("*.safetensors")))
    return [e for e in entries if e]


def run_models(root=None) -> list[ModelEntry]:
    """Finished runs with a best checkpoint, newest first."""
    out = []
    for run in runs.list_runs(root):
        if (run / runs.SUMMARY).is_file() and (run / runs.BEST).is_file():
            entry = _entry(run / runs.BEST, "run")
            if entry:
                out.append(entry)
    return out


def imported_models(root=None) -> list[ModelEntry]:
    """Checkpoints imported on the Models page, newest first."""
    entries = (_entry(p, "imported") for p in imports.imported_files(root))
    return [e for e in entries if e]


def taught_models(root=None, viewer: str | None = None) -> list[ModelEntry]:
    """Models taught a class, newest first: those `viewer` (a browser's owner digest) taught or the teacher shared;
    every one when `viewer` is None."""
    entries = (_entry(p, "taught") for p in taught.taught_files(root) if taught.visible_to(p, viewer))
    return [e for e in entries if e]


def all_models(shipped_folder=None, runs_root=None, viewer: str | None = None) -> list[ModelEntry]:
    """Every model `viewer` may pick (see `taught_models`)."""
    return (
        shipped_models(shipped_folder)
        + run_models(runs_root)
        + imported_models(runs_root)
        + taught_models(runs_root, viewer)
    )
