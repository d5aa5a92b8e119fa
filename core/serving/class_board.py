"""The class at a glance: one row per training any browser started on this server and per class a student taught,
with who (their nickname), the architecture, the key settings, the test accuracy and the time, best first.

Trainings come from the job records in the runs folder (core.serving.job_store: every job the server was asked
for, also after a restart) and their run folders; taught classes from the taught models (core.library.taught),
shared with the class or not: the teacher sees them all.
"""

import time
from datetime import datetime
from pathlib import Path

from core.io import class_sources, runs
from core.library import catalog, pins, taught
from core.models import get as get_architecture
from core.serving import job_store

TEACHER = "the teacher"


def who(owner: str | None, names: dict[str, str], teacher: bool = False) -> str:
    """How the board names a browser: its nickname, else "browser" and the start of its digest."""
    if teacher:
        return TEACHER
    if not owner:
        return "the command line"
    return names.get(owner) or f"browser {owner[:6]}"


def architecture(arch: str) -> str:
    try:
        return get_architecture(arch).display_name
    except Exception:  # an architecture this version no longer has: its name is still worth showing
        return str(arch)


def key_settings(config: dict) -> str:
    """The settings that tell trainings apart, in one short line: "5 epochs · batch 128 · lr 0.001 · adam"."""
    parts = [
        f"{config.get('epochs')} epochs",
        f"batch {config.get('batch_size')}",
        f"lr {config.get('lr'):g}" if isinstance(config.get("lr"), (int, float)) else "",
        str(config.get("optimizer") or ""),
    ]
    if config.get("schedule") not in (None, "none"):
        parts.append(f"{config['schedule']} schedule")
    if config.get("augment"):
        parts.append("augmented")
    if config.get("limit"):
        parts.append(f"{config['limit']:,} images")
    own = ", ".join(
        f"{k}={'-'.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in (config.get("arch_settings") or {}).items()
    )
    return " · ".join(p for p in [*parts, own] if p)


def trainings(names: dict[str, str], runs_root=None, now: float | None = None) -> list[dict]:
    """A row per training job on record: who, model, architecture, settings, state, test accuracy, time."""
    now = time.time() if now is None else now
    pinned = set(pins.pinned(runs_root))
    rows = []
    for record in job_store.JobStore(runs_root).records():
        config = record.get("config") or {}
        run_dir = record.get("run_dir")
        summary = (runs.read_json(Path(run_dir) / runs.SUMMARY) if run_dir else None) or {}
        started, finished = record.get("started"), record.get("finished")
        seconds = summary.get("seconds")
        if seconds is None and started:  # still training, or ended without a summary: the time it had
            seconds = (finished or now) - started
        run = Path(run_dir).name if run_dir else None
        rows.append(
            {
                "who": who(record.get("owner"), names, bool(record.get("teacher"))),
                "owner": record.get("owner"),
                "kind": "training",
                "model": record.get("name") or run or record.get("id"),
                "run": run,
                "architecture": architecture(config.get("arch")),
                "settings": key_settings(config),
                "state": record.get("state"),
                "test_accuracy": summary.get("test_accuracy"),
                "seconds": seconds,
                "when": started or record.get("created"),
                "pinned": run in pinned,
            }
        )
    return rows


def taught_classes(names: dict[str, str], runs_root=None) -> list[dict]:
    """A row per model a student taught a class (core.library.taught), whether shared with the class or not."""
    rows = []
    for entry in catalog.taught_models(runs_root):
        meta = entry.metadata
        added = class_sources.taught(meta)
        if not added:
            continue
        source = class_sources.sources(meta)[added[-1]]
        owner = taught.owner_of(entry.path) or source.get("owner")
        base = (meta.get("taught_from") or {}).get("name", "?")
        new_class = class_sources.names(meta)[added[-1]]
        rows.append(
            {
                "who": who(owner, names),
                "owner": owner,
                "kind": "taught class",
                "model": entry.name,
                "run": None,
                "architecture": architecture(entry.arch),
                "settings": f"taught {new_class!r} to {base} from {source.get('examples', '?')} examples "
                f"({source.get('held_out', '?')} held out)",
                "state": "shared" if taught.is_shared(entry.path) else "not shared",
                "test_accuracy": entry.test_accuracy,
                "seconds": None,
                "when": _timestamp(source.get("taught_at")),
                "pinned": False,
            }
        )
    return rows


def board(names: dict[str, str], runs_root=None, now: float | None = None) -> list[dict]:
    """Every training and taught class, best test accuracy first (those without one last, newest first)."""
    rows = trainings(names, runs_root, now) + taught_classes(names, runs_root)
    rows.sort(key=lambda r: -(r["when"] or 0))
    rows.sort(key=lambda r: -r["test_accuracy"] if r["test_accuracy"] is not None else 1.0)
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank if row["test_accuracy"] is not None else None
    return rows


def _timestamp(text) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp()
    except (TypeError, ValueError):
        return None
