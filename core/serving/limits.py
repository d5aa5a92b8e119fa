"""The limits a teacher sets for a shared server, read from environment variables.

- FMNIST_MAX_QUEUED: requests one browser may have waiting in the queue (default 2).
- FMNIST_MAX_QUEUED_TOTAL: requests waiting in the queue from all browsers together (default 20), since a new
  browser identity costs nothing (a private window).
- FMNIST_MAX_IMAGES: the largest epochs x training images one student may request (default 3,000,000:
  about 10 minutes at the ~5,000 images/s the default CNN keeps on a busy 2-core server; it trains at
  ~12,000 images/s alone, bench/RESULTS.md).
- FMNIST_RUNS_BUDGET_MB: disk budget of the runs folder (default: none). When it is full a new request
  either removes the oldest finished student runs (FMNIST_RUNS_FULL=prune, default) or is refused
  (FMNIST_RUNS_FULL=refuse). Runs the teacher started, runs started from the command line and the
  shipped models (checkpoints/) are never removed.
The teacher (and the command line) is not bound by the first three.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from core.base.errors import StudioError
from core.training.config import TrainConfig

TRAIN_IMAGES = 60_000
DEFAULT_MAX_QUEUED = 2
DEFAULT_MAX_QUEUED_TOTAL = 20
DEFAULT_MAX_IMAGES = 3_000_000
FULL_POLICIES = ("prune", "refuse")


def _env_number(name: str, default, kind=int):
    raw = os.environ.get(name, "").strip().replace("_", "").replace(",", "")
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise StudioError(f"{name} must be a number, got {raw!r}.") from None
    if value < 0:
        raise StudioError(f"{name} must be >= 0, got {raw!r}.")
    return value


@dataclass(frozen=True)
class Limits:
    max_queued: int = DEFAULT_MAX_QUEUED  # per browser; 0 = no limit
    max_queued_total: int = DEFAULT_MAX_QUEUED_TOTAL  # all browsers together; 0 = no limit
    max_images: int = DEFAULT_MAX_IMAGES  # epochs x images per request; 0 = no limit
    runs_budget_mb: float | None = None  # None = no budget
    when_full: str = "prune"

    @classmethod
    def from_env(cls) -> "Limits":
        budget = _env_number("FMNIST_RUNS_BUDGET_MB", None, float)
        when_full = os.environ.get("FMNIST_RUNS_FULL", "prune").strip().lower() or "prune"
        if when_full not in FULL_POLICIES:
            raise StudioError(f"FMNIST_RUNS_FULL must be one of: {', '.join(FULL_POLICIES)}, got {when_full!r}.")
        return cls(
            max_queued=_env_number("FMNIST_MAX_QUEUED", DEFAULT_MAX_QUEUED),
            max_queued_total=_env_number("FMNIST_MAX_QUEUED_TOTAL", DEFAULT_MAX_QUEUED_TOTAL),
            max_images=_env_number("FMNIST_MAX_IMAGES", DEFAULT_MAX_IMAGES),
            runs_budget_mb=budget or None,
            when_full=when_full,
        )


def images_requested(config: TrainConfig) -> int:
    """The work a request asks for: epochs x training images."""
    return config.epochs * min(config.limit or TRAIN_IMAGES, TRAIN_IMAGES)


def check_request(limits: Limits, config: TrainConfig, queued_by_owner: int, queued_total: int = 0) -> None:
    """Raise StudioError with one line if a student's request is over a limit."""
    if limits.max_queued_total and queued_total >= limits.max_queued_total:
        raise StudioError(
            f"the server's queue is full ({queued_total} trainings are waiting, at most "
            f"{limits.max_queued_total}): try again when some have started."
        )
    if limits.max_queued and queued_by_owner >= limits.max_queued:
        raise StudioError(
            f"you already have {queued_by_owner} trainings waiting in the queue (at most "
            f"{limits.max_queued} per person): wait for one to start, or cancel one."
        )
    work = images_requested(config)
    if limits.max_images and work > limits.max_images:
        raise StudioError(
            f"{config.epochs} epochs x {work // config.epochs:,} images = {work:,} images is over "
            f"this server's limit of {limits.max_images:,} per training: use fewer epochs or images."
        )


def folder_bytes(path) -> int:
    """Bytes of every file under `path` (0 if it does not exist)."""
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def megabytes(n: int) -> float:
    return n / 1e6


def make_room(limits: Limits, root: Path, removable: list[Path], remove) -> list[Path]:
    """Keep the runs folder within its budget before a new run starts.

    `removable` lists the run folders that may go, oldest first (finished student runs); `remove(path)`
    deletes one. Returns what was removed; raises StudioError if the budget cannot be met.
    """
    if limits.runs_budget_mb is None:
        return []
    budget = limits.runs_budget_mb * 1e6
    used = folder_bytes(root)
    if used < budget:
        return []
    if limits.when_full == "refuse":
        raise StudioError(
            f"the runs folder is full ({megabytes(used):,.1f} MB of its {limits.runs_budget_mb:,.1f} MB "
            "budget): ask the teacher to delete old runs before starting a new one."
        )
    removed = []
    for run in removable:
        if used < budget:
            break
        size = folder_bytes(run)
        remove(run)
        used -= size
        removed.append(run)
    if used >= budget:
        raise StudioError(
            f"the runs folder is full ({megabytes(used):,.1f} MB of its {limits.runs_budget_mb:,.1f} MB "
            "budget) and no student run is left to remove: ask the teacher to delete runs."
        )
    return removed
