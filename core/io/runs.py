"""The runs directory: one folder per training run with its config, metrics log and checkpoints."""

import io
import json
import os
import secrets
import shutil
from datetime import datetime
from pathlib import Path

import torch

from core.base.errors import StudioError
from core.base.files import write_atomic
from core.io import checkpoint

DEFAULT_RUNS_DIR = Path(__file__).resolve().parents[2] / "runs"
CONFIG = "config.json"
METRICS = "metrics.jsonl"
SUMMARY = "summary.json"
BEST = "best.safetensors"
STATE = "last.pt"


def runs_dir(path=None) -> Path:
    """The runs directory: explicit path, FMNIST_RUNS_DIR, or runs/ beside the project (git-ignored)."""
    return Path(path or os.environ.get("FMNIST_RUNS_DIR") or DEFAULT_RUNS_DIR)


def new_run_id(arch: str) -> str:
    """Unique, sortable and safe as a file name: 20261122-213045-simple_cnn-3fa9c2."""
    return f"{datetime.now():%Y%m%d-%H%M%S}-{arch}-{secrets.token_hex(3)}"


def create_run(root, arch: str, config: dict) -> Path:
    root = runs_dir(root)
    run = root / new_run_id(arch)
    try:
        run.mkdir(parents=True)
        write_json(run / CONFIG, config)
    except OSError as e:
        raise StudioError(f"cannot create run folder in {root}: {e.strerror or e}.") from None
    return run


def write_json(path: Path, data: dict) -> None:
    """Atomically: a crash leaves either the old file or the new one, never half of one."""
    write_atomic(path, json.dumps(data, indent=2))


def write_state(run: Path, state: dict) -> None:
    """Save the state a run resumes from (last.pt) atomically; a full disk or an unwritable folder is a
    WriteError naming it, and no temporary file stays behind."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_atomic(Path(run) / STATE, buffer.getvalue())


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def append_metrics(run: Path, record: dict) -> None:
    """Add one epoch's record. The log is rewritten atomically (it has one short line per epoch)."""
    write_metrics(run, read_metrics(run) + [record])


def write_metrics(run: Path, records: list[dict]) -> None:
    write_atomic(Path(run) / METRICS, "".join(json.dumps(r) + "\n" for r in records))


def read_metrics(run: Path) -> list[dict]:
    """Per-epoch records; a half-written last line (a run still writing) is skipped."""
    return read_jsonl(Path(run) / METRICS)


def read_jsonl(path: Path) -> list[dict]:
    """One JSON record per line; unreadable lines are skipped, a missing file is empty."""
    out = []
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def list_runs(root=None) -> list[Path]:
    """Run folders, newest first."""
    root = runs_dir(root)
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if (p / CONFIG).is_file()), key=lambda p: p.name, reverse=True)


MAX_NAME = 80


def _finished_run(run_dir, root=None) -> Path:
    """`run_dir` if it is a finished run folder directly inside the runs directory; else a StudioError."""
    run = Path(run_dir).resolve()
    if run.parent != runs_dir(root).resolve() or not (run / CONFIG).is_file():
        raise StudioError(f"{Path(run_dir).name} is not a run in {runs_dir(root)}.")
    if not (run / SUMMARY).is_file():
        raise StudioError(f"{run.name} is still training; stop it first.")
    return run


def display_name(text, what: str = "the name") -> str | None:
    """A model's display name as typed, its spaces tidied; None if empty; a StudioError over MAX_NAME characters."""
    name = " ".join(str(text or "").split())
    if len(name) > MAX_NAME:
        raise StudioError(f"{what} is {len(name):,} characters; the limit is {MAX_NAME}.")
    return name or None


def rename_run(run_dir, new_name: str, root=None) -> str:
    """Give a finished run a new display name (kept in its checkpoint, so every model picker shows it)."""
    name = display_name(new_name, "the new name")
    if not name:
        raise StudioError("the new name is empty.")
    run = _finished_run(run_dir, root)
    if (run / BEST).is_file():
        checkpoint.update_metadata(run / BEST, name=name)
    return name


def delete_run(run_dir, root=None) -> None:
    """Delete a finished run folder with everything in it (checkpoints, metrics, cached results)."""
    run = _finished_run(run_dir, root)
    try:
        shutil.rmtree(run)
    except OSError as e:
        raise StudioError(f"cannot delete {run.name}: {e.strerror or e}.") from None
