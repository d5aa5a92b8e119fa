"""Runs the teacher pinned for the whole class: every Compare runs page shows them.

The list is `<runs>/pinned.json` (run folder names, in the order pinned; core.base.shared_json, so every server
on the runs folder sees the same list); a pinned run that was deleted since is left out when the list is read.
"""

from pathlib import Path

from core.base.errors import StudioError
from core.base.shared_json import SharedJSON
from core.io import runs

FILE = "pinned.json"


def _doc(root=None) -> SharedJSON:
    return SharedJSON(runs.runs_dir(root) / FILE)


def _names(data: dict) -> list[str]:
    found = data.get("runs")
    return [n for n in found if isinstance(n, str)] if isinstance(found, list) else []


def pinned(root=None) -> list[str]:
    """The pinned runs that still exist, in the order they were pinned."""
    folder = runs.runs_dir(root)
    return [name for name in _names(_doc(root).read()) if (folder / name / runs.CONFIG).is_file()]


def set_pinned(run_id: str, pin: bool, *, teacher: bool, root=None) -> list[str]:
    """Pin (or unpin) the run folder `run_id` for everyone; only the teacher may. Returns the new list."""
    if not teacher:
        raise StudioError("only the teacher can pin a run.")
    folder = runs.runs_dir(root)
    plain = isinstance(run_id, str) and Path(run_id).name == run_id and run_id not in ("", ".", "..")
    if pin and not (plain and (folder / run_id / runs.CONFIG).is_file()):
        raise StudioError(f"{run_id!r} is not a run in {folder}.")
    with _doc(root).changing() as data:
        names = [n for n in _names(data) if n != run_id and (folder / n / runs.CONFIG).is_file()]
        data["runs"] = names + ([run_id] if pin else [])
    return data["runs"]
