"""Runs the teacher pinned for the whole class: every Compare runs page shows them.

The list is `<runs>/pinned.json` (run folder names, in the order pinned), written atomically; a pinned run that
was deleted since is left out when the list is read.
"""

import json
import threading
from pathlib import Path

from core.base.errors import StudioError
from core.base.files import write_atomic
from core.io import runs

FILE = "pinned.json"
_lock = threading.Lock()


def _path(root=None):
    return runs.runs_dir(root) / FILE


def _stored(root=None) -> list[str]:
    found = runs.read_json(_path(root))
    names = found.get("runs") if isinstance(found, dict) else None
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def pinned(root=None) -> list[str]:
    """The pinned runs that still exist, in the order they were pinned."""
    folder = runs.runs_dir(root)
    return [name for name in _stored(root) if (folder / name / runs.CONFIG).is_file()]


def set_pinned(run_id: str, pin: bool, *, teacher: bool, root=None) -> list[str]:
    """Pin (or unpin) the run folder `run_id` for everyone; only the teacher may. Returns the new list."""
    if not teacher:
        raise StudioError("only the teacher can pin a run.")
    folder = runs.runs_dir(root)
    plain = isinstance(run_id, str) and Path(run_id).name == run_id and run_id not in ("", ".", "..")
    if pin and not (plain and (folder / run_id / runs.CONFIG).is_file()):
        raise StudioError(f"{run_id!r} is not a run in {folder}.")
    with _lock:
        names = [n for n in pinned(root) if n != run_id] + ([run_id] if pin else [])
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_atomic(_path(root), json.dumps({"runs": names}, indent=1))
        except OSError as e:
            raise e if isinstance(e, StudioError) else StudioError(f"cannot save the pinned runs: {e}.") from None
    return names
