"""What a training worker and every server process share about one job, as files in <runs>/.jobs/.

A worker may run in another process or on another machine (core.serving.ray_runner); the servers learn what it
does only from these files, next to the job's record (core.serving.job_store):

- `<id>.<launch>.events.jsonl`: the trainer's events (start, batch, epoch, end) and the worker's own (worker,
  failed), one JSON line each, appended by the worker; every server reads on from where it stopped. `<launch>`
  (the start time in ms) tells one start of a job from the next (a resumed job starts again).
- `<id>.stop`: a stop request; the worker looks for it every STOP_POLL_S seconds.
- `.lock`: an exclusive lock (flock) taken around every change of the records, so that two servers never start
  the same job twice and a worker's last word on its job is never overwritten.

While a started job waits for room on its cluster, its record's message is WAITING (set by a server, blanked by
the worker when it starts).
"""

import fcntl
import json
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from core.io import runs
from core.serving.job_store import JOBS_DIR

FLUSH_S = 0.25  # the longest a batch event waits in the worker before it is written
STOP_POLL_S = 0.2
FLUSH_AT_ONCE = ("worker", "start", "epoch", "end", "failed")
LOCK = ".lock"
WAITING = "waiting for a free slot on the cluster"


def jobs_dir(root=None) -> Path:
    return runs.runs_dir(root) / JOBS_DIR


def launch_key(started: float) -> str:
    return str(round(started * 1000))


def events_path(root, job_id: str, started: float) -> Path:
    return jobs_dir(root) / f"{job_id}.{launch_key(started)}.events.jsonl"


def stop_path(root, job_id: str) -> Path:
    return jobs_dir(root) / f"{job_id}.stop"


def request_stop(root, job_id: str) -> None:
    path = stop_path(root, job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def clear_stop(root, job_id: str) -> None:
    stop_path(root, job_id).unlink(missing_ok=True)


def remove_files(root, job_id: str, keep: Path | None = None) -> None:
    """Delete a job's events files (all but `keep`) and its stop request."""
    folder = jobs_dir(root)
    for path in folder.glob(f"{job_id}.*.events.jsonl") if folder.is_dir() else []:
        if path != keep:
            path.unlink(missing_ok=True)
    if keep is None:
        clear_stop(root, job_id)


@contextmanager
def locked(root=None, name: str = LOCK):
    """Hold the runs folder's job lock (every process and thread that opens it waits its turn)."""
    folder = jobs_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / name, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def update_record(root, job_id: str, started: float, when=None, **fields) -> bool:
    """Change fields of a job's record, but only while it is still the launch `started` (not deleted, not
    started again since) and `when(record)` holds if given; False if not."""
    path = jobs_dir(root) / f"{job_id}.json"
    with locked(root):
        record = runs.read_json(path)
        if not isinstance(record, dict) or record.get("started") != started or (when and not when(record)):
            return False
        runs.write_json(path, {**record, **fields})
    return True


def note_waiting(root, job_id: str, started: float) -> bool:
    """Show WAITING as the message of a running job whose worker has not started yet (no events file)."""
    path = events_path(root, job_id, started)
    return update_record(
        root, job_id, started, when=lambda r: r.get("state") == "running" and not path.exists(), message=WAITING
    )


def clear_waiting(root, job_id: str, started: float) -> bool:
    """Blank the WAITING message of the job's record (its worker has started)."""
    return update_record(root, job_id, started, when=lambda r: r.get("message") == WAITING, message="")


class EventWriter:
    """Appends events to a job's events file: batch events at most every FLUSH_S seconds, the rest at once."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._flushed = time.monotonic()

    def write(self, event: dict) -> None:
        with self._lock:
            self._pending.append(json.dumps(event) + "\n")
            if event.get("event") in FLUSH_AT_ONCE or time.monotonic() - self._flushed >= FLUSH_S:
                self._flush()

    def close(self) -> None:
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            with open(self.path, "a") as f:
                f.write("".join(self._pending))
            self._pending = []
        self._flushed = time.monotonic()


class EventReader:
    """Reads the events appended to a file since the last call (a half-written last line waits for the next)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.offset = 0

    def read(self) -> list[dict]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except OSError:
            return []
        end = chunk.rfind(b"\n") + 1
        self.offset += end
        events = []
        for line in chunk[:end].splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return events


class StopWatch:
    """Calls `on_stop` once when the job's stop request appears (checked every STOP_POLL_S seconds)."""

    def __init__(self, path: Path, on_stop):
        self.path = Path(path)
        self._on_stop = on_stop
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="stop-watch", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(STOP_POLL_S):
            if self.path.exists():
                self._on_stop()
                return

    def close(self) -> None:
        self._done.set()


def events_age(path: Path) -> float:
    """Seconds since an events file last changed (infinite if it is gone)."""
    try:
        return time.time() - os.path.getmtime(path)
    except OSError:
        return float("inf")
