"""Background training: one JobManager per process runs Trainers in worker threads, capped, FIFO queue.

No Streamlit here. A page submits a job and reads `snapshot()` copies; the worker writes plain state
under a lock. Every job belongs to an owner (a session id) so sessions never mix runs.
"""

import copy
import logging
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from core.data import dataset
from core.errors import StudioError
from core.training import resume as resuming
from core.training import runs
from core.training.config import TrainConfig
from core.training.trainer import Trainer

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")
FINISHED = ("completed", "early_stopped", "stopped", "diverged", "failed")
MAX_BATCH_POINTS = 2000   # per-batch losses kept per job; older ones are thinned to every 2nd, 4th, ...
MAX_FINISHED_JOBS = 50    # finished jobs remembered per manager


def default_cap() -> int:
    """Concurrent trainings allowed: FMNIST_MAX_TRAININGS, else 1 (a CPU has no room for two)."""
    raw = os.environ.get("FMNIST_MAX_TRAININGS", "")
    try:
        return max(1, int(raw)) if raw.strip() else 1
    except ValueError:
        return 1


def summarize_error(error: BaseException) -> str:
    """One line for the user: a StudioError's message, or the kind and first line of anything else."""
    if isinstance(error, StudioError):
        return str(error)
    first = (str(error).strip().splitlines() or [""])[0][:200]
    return f"training failed unexpectedly ({type(error).__name__}{': ' + first if first else ''})."


@dataclass
class Job:
    """One training request and everything its Trainer has reported so far."""
    id: str
    owner: str
    config: TrainConfig
    name: str | None = None
    state: str = "queued"
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    queue_position: int | None = None    # 1 = next to start; None once it leaves the queue
    run_dir: str | None = None
    info: dict = field(default_factory=dict)        # the "start" event
    epochs: list = field(default_factory=list)      # "epoch" events
    batches: list = field(default_factory=list)     # {"step", "epoch", "batch", "loss"}, thinned if long
    last_batch: dict | None = None
    result: dict | None = None                      # the "end" event
    message: str = ""                               # why it ended (stop, early stop, divergence, error)
    error: str | None = None                        # set when state == "failed"
    batch_stride: int = 1

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def progress(self) -> float:
        """Fraction of all batches done, 0..1."""
        if self.state == "completed":
            return 1.0
        b = self.last_batch
        if not b:
            return 0.0
        total = b["batches"] * self.config.epochs
        return min(1.0, ((b["epoch"] - 1) * b["batches"] + b["batch"]) / max(total, 1))

    def eta_seconds(self, now: float | None = None) -> float | None:
        """Seconds left, from the pace so far; None before the first batches."""
        if self.state != "running" or self.started is None or not 0 < self.progress < 1:
            return None
        elapsed = (now or time.time()) - self.started
        return elapsed / self.progress * (1 - self.progress)


class JobManager:
    """Runs at most `max_concurrent` trainings at once in daemon threads; the rest wait in FIFO order."""

    def __init__(self, max_concurrent: int | None = None, runs_root=None,
                 trainer_factory: Callable[..., Trainer] = Trainer):
        self.max_concurrent = max(1, max_concurrent or default_cap())
        self.runs_root = runs_root
        self._trainer_factory = trainer_factory
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._queue: deque[str] = deque()
        self._data: dict[str, object] = {}
        self._trainers: dict[str, Trainer] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._stop_requested: set[str] = set()
        self._resuming: dict[str, tuple] = {}     # job id -> (run folder, epochs) for continued runs

    # ---- requests ---------------------------------------------------------------------------

    def submit(self, config: TrainConfig, data, owner: str, name: str | None = None) -> str:
        """Queue a training of `config` on `data` for `owner`; returns the job id. Bad configs raise StudioError."""
        config = copy.deepcopy(config).validate()
        job = Job(id=f"job-{secrets.token_hex(4)}", owner=owner, config=config, name=name or None)
        with self._lock:
            self._jobs[job.id] = job
            self._data[job.id] = data
            self._queue.append(job.id)
            self._renumber()
            self._pump()
            self._prune()
        return job.id

    def resume(self, run_dir, owner: str, epochs: int | None = None) -> str:
        """Queue the continuation of a stopped or interrupted run (to `epochs`, default its plan); returns the
        job id. StudioError (one line) for a finished run, missing files, or a run already training."""
        state = resuming.load_state(run_dir, epochs)
        run_dir = resuming.run_folder(run_dir).resolve()
        config = TrainConfig.from_dict(state["config"])
        config.epochs = epochs or config.epochs
        with self._lock:
            if any(j.active and j.run_dir and Path(j.run_dir).resolve() == run_dir for j in self._jobs.values()):
                raise StudioError(f"{run_dir.name} is already training.")
            job = Job(id=f"job-{secrets.token_hex(4)}", owner=owner, config=config, run_dir=str(run_dir),
                      name=f"{run_dir.name} (continued)")
            job.epochs = [r for r in runs.read_metrics(run_dir)
                          if not r.get("partial") and r["epoch"] <= state["epoch"]]
            self._jobs[job.id] = job
            self._resuming[job.id] = (run_dir, epochs)
            self._queue.append(job.id)
            self._renumber()
            self._pump()
            self._prune()
        return job.id

    def stop(self, job_id: str, owner: str | None = None) -> bool:
        """Stop a running job (ends within one batch, best checkpoint kept) or cancel a queued one.

        With `owner`, only that owner's job may be stopped. Returns False if the job had already ended.
        """
        with self._lock:
            job = self._get(job_id, owner)
            if job.state == "queued":
                self._queue.remove(job_id)
                self._data.pop(job_id, None)
                self._resuming.pop(job_id, None)
                job.state, job.message, job.finished = "stopped", "cancelled before it started", time.time()
                job.queue_position = None
                self._renumber()
                return True
            if job.state == "running":
                self._stop_requested.add(job_id)
                if job_id in self._trainers:
                    self._trainers[job_id].stop()
                job.message = "stopping…"
                return True
            return False

    def claim(self, job_id: str, owner: str) -> None:
        """Make `owner` the job's owner (a reloaded browser gets a new session id)."""
        with self._lock:
            self._get(job_id).owner = owner

    # ---- reading ----------------------------------------------------------------------------

    def snapshot(self, job_id: str) -> Job | None:
        """A consistent copy of the job, safe to read while it trains; None if unknown."""
        with self._lock:
            job = self._jobs.get(job_id)
            return copy.deepcopy(job) if job else None

    def jobs(self, owner: str | None = None) -> list[Job]:
        """Copies of the jobs (of one owner, if given), newest first."""
        with self._lock:
            chosen = [j for j in self._jobs.values() if owner is None or j.owner == owner]
            return [copy.deepcopy(j) for j in sorted(chosen, key=lambda j: j.created, reverse=True)]

    def wait(self, job_id: str, timeout: float | None = None) -> Job | None:
        """Block until the job has finished (for scripts and tests); returns its snapshot."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                thread = self._threads.get(job_id)
                job = self._jobs.get(job_id)
                if job is None or job.state in FINISHED:
                    return copy.deepcopy(job) if job else None
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return self.snapshot(job_id)
            if thread is not None:
                thread.join(timeout=min(left, 0.5) if left is not None else 0.5)
            else:
                time.sleep(0.05)

    # ---- inside the lock ----------------------------------------------------------------------

    def _get(self, job_id: str, owner: str | None = None) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise StudioError(f"no training job {job_id!r} (the server may have restarted).")
        if owner is not None and job.owner != owner:
            raise StudioError(f"training {job_id} belongs to another session.")
        return job

    def _renumber(self) -> None:
        for position, job_id in enumerate(self._queue, start=1):
            self._jobs[job_id].queue_position = position

    def _pump(self) -> None:
        """Start queued jobs while there is a free slot."""
        while self._queue and len(self._threads) < self.max_concurrent:
            job_id = self._queue.popleft()
            job = self._jobs[job_id]
            job.queue_position = None
            job.state, job.started = "running", time.time()
            thread = threading.Thread(target=self._work, args=(job_id,), name=f"train-{job_id}", daemon=True)
            self._threads[job_id] = thread
            thread.start()
        self._renumber()

    def _prune(self) -> None:
        finished = sorted((j for j in self._jobs.values() if j.state in FINISHED), key=lambda j: j.created)
        for job in finished[:max(0, len(finished) - MAX_FINISHED_JOBS)]:
            del self._jobs[job.id]

    # ---- the worker thread --------------------------------------------------------------------

    def _work(self, job_id: str) -> None:
        with self._lock:
            job = self._jobs[job_id]
            config, data, name = job.config, self._data.pop(job_id, None), job.name
            continued = self._resuming.pop(job_id, None)
        try:
            on_event = lambda event: self._on_event(job_id, event)  # noqa: E731
            if continued:
                resume = getattr(self._trainer_factory, "resume", Trainer.resume)
                trainer = resume(continued[0], data or dataset.load(allow_download=False), continued[1],
                                 on_event=on_event)
            else:
                trainer = self._trainer_factory(config, data, runs_root=self.runs_root, name=name,
                                                on_event=on_event)
            with self._lock:
                self._trainers[job_id] = trainer
                if job_id in self._stop_requested:
                    trainer.stop()
            result = trainer.run()
            with self._lock:
                job.state, job.message = result.status, result.message
        except Exception as e:  # the worker must never die silently: the user sees one line
            if not isinstance(e, StudioError):
                log.exception("training job %s failed", job_id)
            with self._lock:
                job.state, job.error = "failed", summarize_error(e)
                job.message = job.error
        finally:
            with self._lock:
                job.finished = time.time()
                self._trainers.pop(job_id, None)
                self._threads.pop(job_id, None)
                self._stop_requested.discard(job_id)
                self._pump()
                self._prune()

    def _on_event(self, job_id: str, event: dict) -> None:
        kind = event.get("event")
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return
            if kind == "batch":
                point = {k: event[k] for k in ("step", "epoch", "batch", "batches", "loss")}
                job.last_batch = point
                if point["step"] % job.batch_stride == 0:
                    job.batches.append(point)
                    if len(job.batches) > MAX_BATCH_POINTS:
                        job.batch_stride *= 2
                        job.batches = [p for p in job.batches if p["step"] % job.batch_stride == 0]
            elif kind == "epoch":
                job.epochs.append({k: v for k, v in event.items() if k != "event"})
            elif kind == "start":
                job.info = {k: v for k, v in event.items() if k != "event"}
                job.run_dir = event.get("run_dir")
            elif kind == "end":
                job.result = {k: v for k, v in event.items() if k != "event"}
