"""The job list on disk, so it outlives the server: one small JSON record per job in <runs>/.jobs/.

A record holds what the list shows (owner digest, settings, state, times, run folder), never a secret.
When the server starts again, `revive` turns each record back into job fields: a finished run as it was
(its epochs and result read back from the run folder), a run that was training as *interrupted*, and a
request that was still queued as *dropped*.
"""

import json
import logging
import os
from pathlib import Path

from core.io import runs
from core.training.config import TrainConfig

log = logging.getLogger(__name__)

JOBS_DIR = ".jobs"
FIELDS = ("id", "owner", "teacher", "name", "state", "created", "started", "finished", "run_dir", "message", "error")
INTERRUPTED = "interrupted: the server stopped during this training. Its owner can resume it from epoch {epoch}."
INTERRUPTED_UNSAVED = "interrupted after epoch {epoch}: nothing was saved to resume from; start it again."
INTERRUPTED_EARLY = "interrupted: the server stopped before the first epoch ended; start it again."
DROPPED = "dropped: the server restarted before this training started; start it again."


class JobStore:
    """Reads and writes job records under `<runs root>/.jobs/` (atomically: temp file + rename)."""

    def __init__(self, root=None):
        self.dir = runs.runs_dir(root) / JOBS_DIR

    def save(self, job, **extra) -> None:
        record = {**{k: getattr(job, k) for k in FIELDS}, **extra}
        record["config"] = job.config.to_dict()
        path = self.dir / f"{job.id}.json"
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            runs.write_json(path, record)
        except OSError as e:  # the training itself must not fail because the list cannot be saved
            if not _overwrite(path, record):
                log.warning("cannot save job %s: %s", job.id, e)

    def remove(self, job_id: str) -> None:
        try:
            (self.dir / f"{job_id}.json").unlink(missing_ok=True)
        except OSError as e:
            log.warning("cannot remove job record %s: %s", job_id, e)

    def records(self) -> list[dict]:
        """Every readable record, oldest first."""
        out = []
        for path in self.dir.glob("job-*.json") if self.dir.is_dir() else []:
            record = runs.read_json(path)
            if (
                isinstance(record, dict)
                and isinstance(record.get("id"), str)
                and isinstance(record.get("config"), dict)
            ):
                out.append(record)
        return sorted(out, key=lambda r: r.get("created") or 0)


def revive(record: dict) -> dict:
    """Job fields for a record found at start-up (see the module docstring for what becomes of each state)."""
    fields = {k: record.get(k) for k in FIELDS}
    fields["teacher"] = bool(fields["teacher"])
    fields["message"] = fields["message"] or ""
    fields["config"] = TrainConfig.from_dict(record["config"])
    run_dir = Path(record["run_dir"]) if record.get("run_dir") else None
    summary = runs.read_json(run_dir / runs.SUMMARY) if run_dir else None
    state = fields["state"]
    if state == "queued":
        fields.update(state="dropped", message=DROPPED, finished=fields["finished"] or fields["created"])
    elif state == "running" and summary:  # it ended, but the record was not updated before the stop
        fields.update(state=summary.get("status", "completed"), message=summary.get("message", ""))
    elif state == "running":
        epoch, done = saved_epochs(run_dir), finished_epochs(run_dir)
        if epoch:
            message = INTERRUPTED.format(epoch=epoch + 1)
        else:
            message = INTERRUPTED_UNSAVED.format(epoch=done) if done else INTERRUPTED_EARLY
        fields.update(state="interrupted", message=message, finished=fields["finished"] or _mtime(run_dir))
    fields["queue_position"] = None
    if run_dir and run_dir.is_dir():
        fields["epochs"] = [{k: v for k, v in m.items()} for m in runs.read_metrics(run_dir)]
        if summary:
            fields["result"] = {**summary, "run_dir": str(run_dir)}
    return fields


def resumable(run_dir) -> bool:
    """A run can continue when its last completed epoch was saved (last.pt)."""
    return bool(run_dir) and (Path(run_dir) / runs.STATE).is_file()


def saved_epochs(run_dir: Path | None) -> int:
    """How many epochs of a run its last.pt holds (by its metrics log); 0 if it cannot be resumed."""
    return finished_epochs(run_dir) if resumable(run_dir) else 0


def finished_epochs(run_dir: Path | None) -> int:
    """The last epoch of a run its metrics log records as finished (0 if none)."""
    if not run_dir:
        return 0
    done = [m.get("epoch", 0) for m in runs.read_metrics(run_dir) if not m.get("partial")]
    return max((e for e in done if isinstance(e, int)), default=0)


def _overwrite(path: Path, record: dict) -> bool:
    """The last resort when a record cannot be replaced atomically (a full disk has no room for a second
    copy): rewrite the existing file in place, within the space it already has (a record is far smaller than
    a disk block), then cut it to length. True if that worked."""
    data = json.dumps(record, indent=2).encode()
    try:
        if len(data) > -(-path.stat().st_size // 4096) * 4096:  # it would need more space
            return False
        with open(path, "r+b") as f:
            f.write(data)
            f.truncate(len(data))
            f.flush()
            os.fsync(f.fileno())
    except OSError:
        return False
    return True


def _mtime(path: Path | None) -> float | None:
    try:
        return os.path.getmtime(path) if path else None
    except OSError:
        return None
