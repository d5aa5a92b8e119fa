"""Each browser's verdicts on suspect labels: "mislabeled" (agree with the suspicion) or "fine".

Kept on the server per browser, under the digest of the browser's owner secret (core.serving.ownership;
never the secret itself): runs/data_lab/marks/<digest>.json, {training index: verdict}.
"""

import csv
import io
import threading
from pathlib import Path

from core.analysis.label_issues import Suspects
from core.base.errors import StudioError
from core.data.classes import CLASS_NAMES
from core.io import runs
from core.serving import ownership

VERDICTS = ("mislabeled", "fine")
CSV_COLUMNS = ("index", "given", "suggested", "quality", "verdict")
FOLDER = ("data_lab", "marks")
TRAIN_IMAGES = 60_000
_lock = threading.Lock()


def _path(owner_secret: str, root=None) -> Path:
    return runs.runs_dir(root).joinpath(*FOLDER, f"{ownership.digest(owner_secret)}.json")


def load(owner_secret: str, root=None) -> dict[int, str]:
    """This browser's verdicts by training index (empty when it has none)."""
    stored = runs.read_json(_path(owner_secret, root)) or {}
    return {int(k): v for k, v in stored.items() if str(k).isdigit() and v in VERDICTS}


def mark(owner_secret: str, index: int, verdict: str | None, root=None) -> dict[int, str]:
    """Record (or with None, clear) this browser's verdict on training image `index`; returns all its verdicts."""
    if verdict is not None and verdict not in VERDICTS:
        raise StudioError(f"unknown verdict {verdict!r}; choose one of: {', '.join(VERDICTS)}.")
    if not isinstance(index, int) or not 0 <= index < TRAIN_IMAGES:
        raise StudioError(f"training image index must be in 0-{TRAIN_IMAGES - 1}, got {index!r}.")
    with _lock:
        marks = load(owner_secret, root)
        if verdict is None:
            marks.pop(index, None)
        else:
            marks[index] = verdict
        _save(owner_secret, marks, root)
    return marks


def clear(owner_secret: str, root=None) -> None:
    with _lock:
        _save(owner_secret, {}, root)


def _save(owner_secret: str, marks: dict[int, str], root=None) -> None:
    path = _path(owner_secret, root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        runs.write_json(path, {str(k): v for k, v in sorted(marks.items())})
    except OSError as e:
        raise StudioError(f"cannot keep your marks in {path.parent}: {e.strerror or e}.") from None


def to_csv(marks: dict[int, str], suspects: Suspects) -> str:
    """One row per marked image, in the suspects' order: index, given, suggested, quality, verdict."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    suggested = suspects.suggested
    for i in suspects.order.tolist():
        if i in marks:
            given, likely = CLASS_NAMES[suspects.labels[i]], CLASS_NAMES[suggested[i]]
            writer.writerow([i, given, likely, f"{suspects.quality[i]:.6f}", marks[i]])
    return buffer.getvalue()
