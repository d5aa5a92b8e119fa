"""Background training: one JobManager per process runs Trainers in worker threads, capped, FIFO queue.

No Streamlit here. A page submits a job and reads `snapshot()` copies; the worker writes plain state
under a lock. Every job belongs to an owner: a browser's secret, kept only as a digest (core.serving.ownership).
Only the owner may stop or resume it; the teacher acts by calling without an owner. With `persist=True` the
list is kept in the runs folder and rebuilt when a new manager starts (core.serving.job_store), and
students' requests are held to the server's limits (core.serving.limits).
"""

import copy
import logging
import os
import secrets
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.base.errors import StudioError
from core.io import runs
from core.serving import job_store, limits, ownership
from core.training import resume as resuming
from core.training.config import TrainConfig
from core.training.trainer import Trainer

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")
FINISHED = ("completed", "early_stopped", "stopped", "diverged", "failed", "interrupted", "dropped")
MAX_BATCH_POINTS = 2000  # per-batch losses kept per job; older ones are thinned to every 2nd, 4th, ...
MAX_FINISHED_JOBS = 50  # finished jobs remembered per manager


def default_cap() -> int:
    """Concurrent trainings allowed: FMNIST_MAX_TRAININGS, else 1 (a CPU has no room for two)."""
    raw = os.environ.get("FMNIST_MAX_TRAININGS", "")
    try:
        return max(1, int(raw)) if raw.strip() else 1
    except ValueError:
        return 1


def summarize_error(error: BaseException) -> str:
    """One line for the user: a StudioError's message, the cause of a failed file operation (a full disk, an
    unwritable folder), or the kind and first line of anything else."""
    if isinstance(error, StudioError):
        return str(error)
    if isinstance(error, OSError) and error.strerror:
        where = f" ({error.filename})" if error.filename else ""
        return f"training failed: {error.strerror[:1].lower()}{error.strerror[1:]}{where}."
    first = (str(error).strip().splitlines() or [""])[0][:200]
    return f"training failed unexpectedly ({type(error).__name__}{': ' + first if first else ''})."


def seconds_left(elapsed: float, progress: float, progress_at_start: float) -> float | None:
    """The time the rest takes at the pace of the work done in `elapsed` seconds (progress as fractions of
    the whole training); None while this session has done nothing yet."""
    done = progress - progress_at_start
    if done <= 0:
        return None
    return elapsed / done * (1 - progress)


@dataclass
class Job:
    """One training request and everything its Trainer has reported so far."""

    id: str
    owner: str  # digest of the owner's secret
    config: TrainConfig
    teacher: bool = False  # started by the teacher: no limits, never pruned
    name: str | None = None
    state: str = "queued"
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    queue_position: int | None = None  # 1 = next to start; None once it leaves the queue
    run_dir: str | None = None
    info: dict = field(default_factory=dict)  # the "start" event
    epochs: list = field(default_factory=list)  # "epoch" events
    batches: list = field(default_factory=list)  # {"step", "epoch", "batch", "loss"}, thinned if long
    last_batch: dict | None = None
    result: dict | None = None  # the "end" event
    message: str = ""  # why it ended (stop, early stop, divergence, error)
    error: str | None = None  # set when state == "failed"
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
        """Seconds left, from the pace since this job started (a resumed run's earlier epochs were done at
        another time and do not count); None before the first batches."""
        if self.state != "running" or self.started is None or not 0 < self.progress < 1:
            return None
        first_epoch = self.info.get("start_epoch", 1) if self.info else 1
        return seconds_left((now or time.time()) - self.started, self.progress, (first_epoch - 1) / self.config.epochs)


class JobManager:
    """Runs at most `max_concurrent` trainings at once in daemon threads; the rest wait in FIFO order."""

    def __init__(
        self,
        max_concurrent: int | None = None,
        runs_root=None,
        trainer_factory: Callable[..., Trainer] = Trainer,
        persist: bool = False,
        limit: "limits.Limits | None" = None,
        data_loader: Callable[[], object] | None = None,
    ):
        self.max_concurrent = max(1, max_concurrent or default_cap())
        self.runs_root = runs_root
        self.limits = limit if limit is not None else limits.Limits.from_env()
        self._trainer_factory = trainer_factory
        self._data_loader = data_loader or _load_dataset
        self._store = job_store.JobStore(runs_root) if persist else None
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._queue: deque[str] = deque()
        self._data: dict[str, object] = {}
        self._trainers: dict[str, Trainer] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._stop_requested: set[str] = set()
        self._resumes: dict[str, tuple[int, dict]] = {}  # job id -> (epochs in all, the last.pt it continues)
        if self._store:
            self._restore()

    # ---- requests ---------------------------------------------------------------------------

    def submit(self, config: TrainConfig, data, owner: str, name: str | None = None, *, teacher: bool = False) -> str:
        """Queue a training of `config` on `data` for `owner`; returns the job id.

        Bad configs and (unless `teacher`) requests over the server's limits raise StudioError.
        """
        config = copy.deepcopy(config).validate()
        owner = ownership.digest(owner)
        self._admit(config, owner, teacher)
        job = Job(id=f"job-{secrets.token_hex(4)}", owner=owner, config=config, name=name or None, teacher=teacher)
        with self._lock:
            self._jobs[job.id] = job
            self._data[job.id] = data
            self._enqueue(job)
        return job.id

    def resume(self, run_dir, owner: str | None, epochs: int | None = None) -> str:
        """Queue the continuation of a stopped or interrupted run in its own folder; returns the job id.

        The run's job (if the server knows it) must belong to `owner`; `owner=None` is the teacher. The
        settings come from the run; `epochs` (the new total) may extend it.
        """
        state = resuming.load_state(run_dir, epochs)  # one line if it finished, lacks files or cannot go on
        run_dir = resuming.run_folder(run_dir).resolve()
        digest = ownership.digest(owner) if owner is not None else None
        with self._lock:
            job = next(
                (
                    j
                    for j in sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)
                    if j.run_dir and Path(j.run_dir).resolve() == run_dir
                ),
                None,
            )
            if job is not None and digest is not None and job.owner != digest:
                raise StudioError(f"training {job.id} belongs to another session.")
            if job is not None and job.active:
                raise StudioError(f"training {job.id} is already {job.state}.")
        config = copy.deepcopy(job.config) if job is not None else TrainConfig.from_dict(state["config"])
        done = state["epoch"]  # what last.pt holds, whatever the metrics log says
        total = epochs or state["config"]["epochs"]
        remaining = copy.deepcopy(config)
        remaining.epochs = total - done
        teacher = owner is None or (job is not None and job.teacher)
        self._admit(remaining.validate(), digest or "", teacher)
        with self._lock:
            if job is not None and job.active:  # a second click while this one was being checked
                raise StudioError(f"training {job.id} is already {job.state}.")
            if job is None:  # a run the server has no job for (e.g. from the command line)
                job = Job(
                    id=f"job-{secrets.token_hex(4)}",
                    owner=digest or ownership.digest(ownership.new_secret()),
                    config=config,
                    run_dir=str(run_dir),
                    teacher=teacher,
                )
                self._jobs[job.id] = job
            job.config.epochs = total
            job.state, job.started, job.finished, job.result, job.error = "queued", None, None, None, None
            job.message = f"resuming from epoch {done + 1}"
            job.epochs = [m for m in runs.read_metrics(run_dir) if not m.get("partial")][:done]
            job.batches, job.last_batch, job.batch_stride = [], None, 1
            self._resumes[job.id] = (total, state)
            self._enqueue(job)
        return job.id

    def stop(self, job_id: str, owner: str | None = None) -> bool:
        """Stop a running job (ends within one batch, best checkpoint kept) or cancel a queued one.

        With `owner`, only that owner's job may be stopped. Returns False if the job had already ended.
        """
        with self._lock:
            job = self._get(job_id, owner)
            if job.state == "queued":
                self._cancel(job)
                self._renumber()
                return True
            if job.state == "running":
                self._stop_requested.add(job_id)
                if job_id in self._trainers:
                    self._trainers[job_id].stop()
                job.message = "stopping…"
                return True
            return False

    def clear_queue(self) -> int:
        """Cancel every queued request (the teacher's action); returns how many."""
        with self._lock:
            queued = [self._jobs[i] for i in list(self._queue)]
            for job in queued:
                self._cancel(job)
            self._renumber()
            return len(queued)

    def delete(self, job_id: str, owner: str | None = None) -> None:
        """Forget a finished job and delete its run folder. With `owner`, only that owner's job."""
        with self._lock:
            job = self._get(job_id, owner)
            if job.active:
                raise StudioError(f"training {job_id} is {job.state}: stop it before deleting it.")
            self._forget(job)

    def delete_run(self, run_dir) -> None:
        """Delete a finished run folder (the Models page) and every job record that points to it, so the Train
        page does not list a training whose files are gone. Whether the caller may is decided by the caller."""
        with self._lock:
            run = Path(run_dir).resolve()
            if any(j.active and j.run_dir and Path(j.run_dir).resolve() == run for j in self._jobs.values()):
                raise StudioError(f"{run.name} is still training; stop it first.")
            runs.delete_run(run, self.runs_root)
            self._forget_jobs_of(run)

    def owns(self, job: Job, owner: str) -> bool:
        """Whether `owner` (a secret) is the owner of `job`."""
        return job.owner == ownership.digest(owner)

    # ---- reading ----------------------------------------------------------------------------

    def snapshot(self, job_id: str) -> Job | None:
        """A consistent copy of the job, safe to read while it trains; None if unknown."""
        with self._lock:
            job = self._jobs.get(job_id)
            return copy.deepcopy(job) if job else None

    def jobs(self, owner: str | None = None) -> list[Job]:
        """Copies of the jobs (of one owner, if given), newest first."""
        with self._lock:
            digest = ownership.digest(owner) if owner is not None else None
            chosen = [j for j in self._jobs.values() if owner is None or j.owner == digest]
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
        if owner is not None and job.owner != ownership.digest(owner):
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
            self._save(job)
            thread = threading.Thread(target=self._work, args=(job_id,), name=f"train-{job_id}", daemon=True)
            self._threads[job_id] = thread
            thread.start()
        self._renumber()

    def _prune(self) -> None:
        finished = sorted((j for j in self._jobs.values() if j.state in FINISHED), key=lambda j: j.created)
        for job in finished[: max(0, len(finished) - MAX_FINISHED_JOBS)]:
            del self._jobs[job.id]  # its record stays on disk

    def _enqueue(self, job: Job) -> None:
        self._queue.append(job.id)
        self._save(job)
        self._renumber()
        self._pump()
        self._prune()

    def _cancel(self, job: Job) -> None:
        self._queue.remove(job.id)
        self._data.pop(job.id, None)
        self._resumes.pop(job.id, None)
        job.state, job.message, job.finished = "stopped", "cancelled before it started", time.time()
        job.queue_position = None
        self._save(job)

    def _forget(self, job: Job) -> None:
        self._jobs.pop(job.id, None)
        if self._store:
            self._store.remove(job.id)
        run = self._inside_runs(job.run_dir)
        if run is not None:
            shutil.rmtree(run, ignore_errors=True)

    def _forget_jobs_of(self, run: Path) -> None:
        """Drop every job whose run folder is `run`, in memory and on disk (the folder itself is the caller's)."""

        def ours(run_dir) -> bool:
            return bool(run_dir) and Path(run_dir).resolve() == run

        for job in [j for j in self._jobs.values() if ours(j.run_dir)]:
            self._jobs.pop(job.id, None)
            if self._store:
                self._store.remove(job.id)
        for r in self._store.records() if self._store else []:
            if ours(r.get("run_dir")):
                self._store.remove(r["id"])

    def _inside_runs(self, run_dir) -> Path | None:
        """The run folder if it really is one inside this server's runs folder (never anything else)."""
        if not run_dir:
            return None
        run, root = Path(run_dir).resolve(), runs.runs_dir(self.runs_root).resolve()
        return run if run.parent == root and (run / runs.CONFIG).is_file() else None

    def _save(self, job: Job) -> None:
        if self._store:
            self._store.save(job)

    def _restore(self) -> None:
        for record in self._store.records():
            try:
                job = Job(**job_store.revive(record))
            except (TypeError, ValueError, StudioError) as e:
                log.warning("skipping unreadable job record %s: %s", record.get("id"), e)
                continue
            self._jobs[job.id] = job
            self._save(job)
        self._prune()

    # ---- limits ------------------------------------------------------------------------------------

    def _admit(self, config: TrainConfig, owner: str, teacher: bool) -> None:
        """Refuse a request over a limit (StudioError); make room on disk by pruning student runs if allowed."""
        if not teacher:
            with self._lock:
                queued = sum(1 for i in self._queue if self._jobs[i].owner == owner)
                total = len(self._queue)
            limits.check_request(self.limits, config, queued, total)
        if self.limits.runs_budget_mb is not None:
            limits.make_room(self.limits, runs.runs_dir(self.runs_root), self._removable_runs(), self._remove_run)

    def _removable_runs(self) -> list[Path]:
        """Finished student runs, oldest first (from the jobs in memory and on disk)."""
        with self._lock:
            records = {j.id: (j.created, j.state, j.teacher, j.run_dir) for j in self._jobs.values()}
        for r in self._store.records() if self._store else []:
            records.setdefault(r["id"], (r.get("created") or 0, r.get("state"), r.get("teacher"), r.get("run_dir")))
        out = []
        for _created, state, teacher, run_dir in sorted(records.values(), key=lambda r: r[0] or 0):
            run = self._inside_runs(run_dir)
            if state in FINISHED and not teacher and run is not None:
                out.append(run)
        return out

    def _remove_run(self, run: Path) -> None:
        with self._lock:
            self._forget_jobs_of(run)
        shutil.rmtree(run, ignore_errors=True)
        log.info("disk budget: removed %s", run.name)

    # ---- the worker thread --------------------------------------------------------------------

    def _work(self, job_id: str) -> None:
        with self._lock:
            job = self._jobs[job_id]
            config, data, name = job.config, self._data.pop(job_id, None), job.name
            continuation = self._resumes.pop(job_id, None)
            run_dir = job.run_dir
        try:
            on_event = lambda event: self._on_event(job_id, event)  # noqa: E731
            if continuation:
                data = self._data_loader()
                resume = getattr(self._trainer_factory, "resume", Trainer.resume)
                epochs, state = continuation  # last.pt as read when the resume was asked for: read once
                trainer = resume(
                    run_dir, data, epochs=epochs, state=state, runs_root=self.runs_root, name=name, on_event=on_event
                )
            else:
                trainer = self._trainer_factory(config, data, runs_root=self.runs_root, name=name, on_event=on_event)
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
                self._save(job)
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
                self._save(job)
            elif kind == "end":
                job.result = {k: v for k, v in event.items() if k != "event"}


def _load_dataset():
    from core.data.dataset import load

    return load(allow_download=False)
