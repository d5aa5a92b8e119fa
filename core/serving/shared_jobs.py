"""Trainings shared by every server process on one runs folder, run by an executor outside the page server.

SharedJobManager answers the same requests as JobManager, under the same ownership rules and limits, but its
state lives in the runs folder rather than in this process: the job records (core.serving.job_store) are the
queue, first in first out by the time a request entered it; a worker reports through the files of
core.serving.job_events; a stop request is a file the worker honours within a batch. Each server keeps a copy
of the list, refreshed every POLL_S seconds by a monitor thread that also starts queued jobs while fewer than
`max_concurrent` run (counted over all servers) and marks a job failed when its worker is gone. Any number of
servers may share one runs folder, and a restarted server finds the running trainings and follows them again.
A started job whose worker has not reported yet is asked about (the executor's `pending`, where it has one): it
shows job_events.WAITING while the cluster has no room for it, fails with one line once no node of the cluster
can hold it, and a stop request cancels it while it waits.

Executors: core.serving.ray_runner.RayExecutor (a Ray worker, on this machine or a cluster) and
InProcessExecutor (a thread of this process, for scripts and tests). `server_jobs()` picks the server's manager
from FMNIST_TRAINING_EXECUTOR: `ray` (the default) or `thread` (the plain JobManager: trainings in threads of
the server, the list in its memory; for fast tests and machines without Ray).
"""

import logging
import os
import threading
import time
from collections import deque
from pathlib import Path

from core.base.errors import StudioError
from core.io import runs
from core.serving import job_events, job_store, job_worker, local_ray
from core.serving.jobs import FINISHED, Job, JobManager, summarize_error
from core.training.config import TrainConfig

log = logging.getLogger(__name__)

EXECUTOR_ENV = "FMNIST_TRAINING_EXECUTOR"
EXECUTORS = ("ray", "thread")
POLL_S = 0.5  # how often a server refreshes its copy of the list
ALIVE_EVERY_S = 2.0  # how often it asks the executor whether the running jobs' workers still exist
ALIVE_FILE_EVERY_S = 10.0  # how often it shows that it lives (core.serving.local_ray)
LAUNCH_GRACE_S = 180.0  # a job no worker has reported for yet is given this long (a cluster may be starting)
EVENTS_KEPT_S = 600.0  # a finished job's events file stays this long for servers still reading it
LOST = (
    "training failed: its worker stopped unexpectedly (the process was killed or its machine left the cluster) "
    "after {epochs} finished epoch{s}; {kept}."
)
KEPT, NOTHING_KEPT = "the best checkpoint so far is kept", "no checkpoint had been saved yet"


def server_jobs(data_loader=None) -> JobManager:
    """The server's job manager, as FMNIST_TRAINING_EXECUTOR says (see the module docstring)."""
    kind = os.environ.get(EXECUTOR_ENV, "").strip().lower() or "ray"
    if kind == "thread":
        return JobManager(persist=True, data_loader=data_loader)
    if kind == "ray":
        from core.serving.ray_runner import RayExecutor

        return SharedJobManager(RayExecutor())
    raise StudioError(f"{EXECUTOR_ENV} must be one of: {', '.join(EXECUTORS)}, got {kind!r}.")


class InProcessExecutor:
    """Runs each job in a thread of this process (through the same files as any worker)."""

    def __init__(self, data_loader=None):
        self._data_loader = data_loader
        self._threads: dict[tuple, threading.Thread] = {}  # (job id, launch) -> its thread

    def start(self, spec: dict) -> None:
        data = self._data_loader() if self._data_loader else None
        thread = threading.Thread(target=job_worker.run, args=(spec, data), name=f"train-{spec['job_id']}", daemon=True)
        self._threads[spec["job_id"], spec["started"]] = thread
        thread.start()

    def alive(self, job_id: str, started: float, runs_root=None) -> bool | None:
        """None for a start of a job this process did not make: another process's threads cannot be seen."""
        thread = self._threads.get((job_id, started))
        return None if thread is None else thread.is_alive()


class SharedJobManager(JobManager):
    """A JobManager whose jobs live in the runs folder and run wherever `executor` puts them."""

    def __init__(self, executor, max_concurrent: int | None = None, runs_root=None, limit=None, poll: float = POLL_S):
        self.executor = executor
        self._poll = poll
        self._sync_lock = threading.RLock()  # one refresh at a time; every change of a job's launch holds it
        self._stamps: dict[str, tuple] = {}  # record file -> (mtime, size, inode) when last read
        self._readers: dict[str, list] = {}  # job id -> [launch, EventReader, ended]
        self._queued_at: dict[str, float] = {}
        self._workers: dict[str, dict] = {}  # job id -> the "worker" event of its current launch
        self._launching: set[str] = set()
        self._checked = self._cleaned = self._alive_at = 0.0
        self._wake = threading.Event()
        self._closed = threading.Event()
        super().__init__(max_concurrent, runs.runs_dir(runs_root).resolve(), persist=True, limit=limit)
        self._monitor_thread = threading.Thread(target=self._monitor, name="jobs-monitor", daemon=True)
        self._monitor_thread.start()

    # ---- requests: each one on a fresh copy of the list, under the runs folder's lock ------------------------

    def submit(self, config: TrainConfig, data, owner: str, name: str | None = None, *, teacher: bool = False) -> str:
        with job_events.locked(self.runs_root), self._sync_lock:
            self._sync()
            return super().submit(config, None, owner, name, teacher=teacher)  # the worker loads the data

    def resume(self, run_dir, owner: str | None, epochs: int | None = None) -> str:
        with job_events.locked(self.runs_root), self._sync_lock:
            self._sync()
            return super().resume(run_dir, owner, epochs)

    def stop(self, job_id: str, owner: str | None = None) -> bool:
        """A running job is asked to stop through the runs folder (its worker ends within a batch, wherever it
        runs); a queued one is cancelled."""
        with job_events.locked(self.runs_root), self._sync_lock:
            self._sync()
            with self._lock:
                job = self._get(job_id, owner)
                if job.state == "running":
                    job_events.request_stop(self.runs_root, job_id)
                    job.message = "stopping…"
                    self._save(job)
                    if job_id not in self._workers:  # it may still wait for room: cancel it at the next look
                        self._checked = 0.0
                        self._wake.set()
                    return True
            return super().stop(job_id, owner)

    def clear_queue(self) -> int:
        with job_events.locked(self.runs_root), self._sync_lock:
            self._sync()
            return super().clear_queue()

    def delete(self, job_id: str, owner: str | None = None) -> None:
        with job_events.locked(self.runs_root), self._sync_lock:
            self._sync()
            super().delete(job_id, owner)

    def delete_run(self, run_dir) -> None:
        with job_events.locked(self.runs_root), self._sync_lock:
            self._sync()
            super().delete_run(run_dir)

    def wait(self, job_id: str, timeout: float | None = None) -> Job | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        self._sync()  # what other servers did until now
        while True:
            job = self.snapshot(job_id)
            if job is None or job.state in FINISHED or (deadline is not None and time.monotonic() >= deadline):
                return job
            self._wake.set()
            time.sleep(0.1)

    def worker(self, job_id: str) -> dict | None:
        """Where the current start of a job runs: {"pid", "host", "node"}, once its worker has reported."""
        with self._lock:
            found = self._workers.get(job_id)
            return dict(found) if found else None

    def close(self) -> None:
        """Stop following the jobs (they go on running); for tests and scripts."""
        self._closed.set()
        self._wake.set()
        self._monitor_thread.join(timeout=10)
        local_ray.alive_file(job_events.jobs_dir(self.runs_root)).unlink(missing_ok=True)

    # ---- hooks of JobManager ----------------------------------------------------------------------------------

    def _restore(self) -> None:
        self._sync()

    def _enqueue(self, job: Job) -> None:
        self._queued_at[job.id] = time.time()
        super()._enqueue(job)

    def _pump(self) -> None:
        self._wake.set()  # the monitor starts it (never inside a request: Ray may take seconds to answer)

    def _save(self, job: Job) -> None:
        self._store.save(job, queued_at=self._queued_at.get(job.id))

    def _forget(self, job: Job) -> None:
        super()._forget(job)
        job_events.remove_files(self.runs_root, job.id)

    # ---- the monitor ------------------------------------------------------------------------------------------

    def _monitor(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self._poll)
            self._wake.clear()
            if self._closed.is_set():
                return
            try:
                if time.monotonic() - self._alive_at >= ALIVE_FILE_EVERY_S:
                    self._alive_at = time.monotonic()
                    self._show_alive()
                self._sync()
                if time.monotonic() - self._checked >= ALIVE_EVERY_S:
                    self._checked = time.monotonic()
                    self._check_workers()
                if self._room_to_start():
                    self._start_queued()
                if time.monotonic() - self._cleaned >= 60:
                    self._cleaned = time.monotonic()
                    self._clean_events()
            except Exception:  # the monitor must outlive any one bad file or unreachable cluster
                log.exception("job monitor")

    def _show_alive(self) -> None:
        """Touch this server's file: the local Ray does not end while a server uses it (core.serving.local_ray)."""
        path = local_ray.alive_file(job_events.jobs_dir(self.runs_root))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()

    def _room_to_start(self) -> bool:
        with self._lock:
            running = sum(1 for j in self._jobs.values() if j.state == "running")
            return bool(self._queue) and running < self.max_concurrent

    def _start_queued(self) -> None:
        """Mark the next queued jobs running (under the lock: no other server starts them too), then launch."""
        launches = []
        with job_events.locked(self.runs_root), self._sync_lock:
            self._sync()
            with self._lock:
                running = sum(1 for j in self._jobs.values() if j.state == "running")
                while self._queue and running < self.max_concurrent:
                    job = self._jobs[self._queue.popleft()]
                    job.state, job.started, job.finished, job.queue_position = "running", time.time(), None, None
                    self._data.pop(job.id, None)
                    self._resumes.pop(job.id, None)  # the worker reads last.pt itself
                    job_events.remove_files(self.runs_root, job.id)  # an earlier start's events and stop request
                    self._follow(job)
                    self._launching.add(job.id)
                    self._save(job)
                    launches.append(job_worker.job_spec(job, self.runs_root))
                    running += 1
                self._renumber()
        for spec in launches:
            threading.Thread(target=self._launch, args=(spec,), name=f"launch-{spec['job_id']}", daemon=True).start()

    def _launch(self, spec: dict) -> None:
        try:
            if self.executor.start(spec) == job_events.WAITING:
                job_events.note_waiting(self.runs_root, spec["job_id"], spec["started"])
        except Exception as e:  # the job ends with one line; the queue goes on
            if not isinstance(e, StudioError):
                log.exception("cannot start training job %s", spec["job_id"])
            error = summarize_error(e)
            job_events.update_record(
                self.runs_root, spec["job_id"], spec["started"], state="failed", error=error, message=error,
                finished=time.time(),
            )  # fmt: skip
        finally:
            with self._lock:
                self._launching.discard(spec["job_id"])
            self._wake.set()

    def _check_workers(self) -> None:
        """A running job whose worker is gone ends: failed (with how far it got), or as its run folder says."""
        now = time.time()
        with self._lock:
            running = [
                (j.id, j.started, j.id in self._workers)
                for j in self._jobs.values()
                if j.state == "running" and j.id not in self._launching and not self._ended(j.id)
            ]
        for job_id, started, reported in running:
            if not reported and self._check_waiting(job_id, started):
                continue
            if not reported and now - started < LAUNCH_GRACE_S:
                continue
            if self.executor.alive(job_id, started, self.runs_root) is not False:
                continue
            self._sync()  # what it wrote last
            with self._lock:
                job = self._jobs.get(job_id)
                if job is None or job.state != "running" or job.started != started or self._ended(job_id):
                    continue
                record = {k: getattr(job, k) for k in job_store.FIELDS} | {"config": job.config.to_dict()}
                reported = job_id in self._workers
            self._end_lost(record, reported)

    def _check_waiting(self, job_id: str, started: float) -> bool:
        """For a job no worker has reported for: show that it waits for room, or end it (no node of the cluster
        can hold it any more; stopped while it waited). True if it ended."""
        pending = getattr(self.executor, "pending", None)
        stop = job_events.stop_path(self.runs_root, job_id).exists()
        found = pending(job_id, self.runs_root, cancel=stop) if pending else None
        if found is None:
            return False
        kind, line = found
        if kind == "waiting":
            with self._lock:
                job = self._jobs.get(job_id)
                shown = job is None or job.message in (job_events.WAITING, "stopping…")
            if not shown:
                job_events.note_waiting(self.runs_root, job_id, started)
            return False
        if kind == "unfit":
            fields = {"state": "failed", "message": line, "error": line}
        else:
            fields = {"state": "stopped", "message": job_worker.CANCELLED, "error": None}
        job_events.update_record(self.runs_root, job_id, started, finished=time.time(), **fields)
        self._wake.set()
        return True

    def _end_lost(self, record: dict, reported: bool) -> None:
        run_dir = Path(record["run_dir"]) if record.get("run_dir") else None
        summary = runs.read_json(run_dir / runs.SUMMARY) if run_dir else None
        if summary:  # it had finished; only its last word was lost
            fields = {"state": summary.get("status", "completed"), "message": summary.get("message", "")}
        elif reported:
            epochs = job_store.finished_epochs(run_dir)
            kept = KEPT if run_dir and (run_dir / runs.BEST).is_file() else NOTHING_KEPT
            error = LOST.format(epochs=epochs, s="" if epochs == 1 else "s", kept=kept)
            fields = {"state": "failed", "message": error, "error": error}
        else:  # no worker ever reported (a server stopped while it launched it): as after a restart
            revived = job_store.revive(record)
            fields = {"state": revived["state"], "message": revived["message"]}
        job_events.update_record(self.runs_root, record["id"], record["started"], finished=time.time(), **fields)
        self._wake.set()

    def _clean_events(self) -> None:
        folder = job_events.jobs_dir(self.runs_root)
        for path in folder.glob("job-*.events.jsonl") if folder.is_dir() else []:
            job_id, _, rest = path.name.partition(".")
            with self._lock:
                job = self._jobs.get(job_id)
                current = job is not None and job.active and job.started is not None
                current = current and rest.startswith(job_events.launch_key(job.started) + ".")
            if not current and job_events.events_age(path) > EVENTS_KEPT_S:
                path.unlink(missing_ok=True)

    # ---- the copy of the list -----------------------------------------------------------------------------------

    def _sync(self) -> None:
        """Bring this server's copy up to date: records changed on disk, then new events of followed jobs."""
        with self._sync_lock:
            changed, present = self._read_records()
            with self._lock:
                for job_id in [i for i in self._stamps if i not in present]:  # deleted by another server
                    self._stamps.pop(job_id, None)
                    self._readers.pop(job_id, None)
                    job = self._jobs.get(job_id)
                    if job is not None and not job.active:
                        del self._jobs[job_id]
                # a finished record of a job whose events are being read waits until they are: it must not show
                # the job ended before its last events (the result) are in
                late = [r for r in changed if r.get("state") in FINISHED and self._reading(r["id"], r.get("started"))]
                for record in [r for r in changed if r not in late]:
                    self._apply_record(record)
                self._queue = deque(
                    sorted(
                        (j.id for j in self._jobs.values() if j.state == "queued"),
                        key=lambda i: (self._queued_at.get(i) or 0, i),
                    )
                )
                self._renumber()
                followed = [(i, r[0], r[1]) for i, r in self._readers.items() if not r[2]]
            for job_id, started, reader in followed:
                for event in reader.read():
                    self._apply_event(job_id, started, event)
            with self._lock:
                for record in late:
                    self._apply_record(record)
                for job_id, started, _ in followed:  # a worker writes all its events before its record's end
                    job, current = self._jobs.get(job_id), self._readers.get(job_id)
                    if current is not None and current[0] == started and (job is None or job.state in FINISHED):
                        current[2] = True
                self._prune()

    def _read_records(self) -> tuple[list[dict], set[str]]:
        """The records changed since the last look, and the ids of all there are."""
        changed, present = [], set()
        try:
            entries = list(os.scandir(self._store.dir))
        except OSError:
            return changed, present
        for entry in entries:
            if not (entry.name.startswith("job-") and entry.name.endswith(".json")):
                continue
            job_id = entry.name[: -len(".json")]
            try:
                stat = entry.stat()
            except OSError:
                continue
            present.add(job_id)
            stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
            if self._stamps.get(job_id) == stamp:
                continue
            record = runs.read_json(Path(entry.path))
            if isinstance(record, dict) and record.get("id") == job_id and isinstance(record.get("config"), dict):
                self._stamps[job_id] = stamp
                changed.append(record)
        return changed, present

    def _apply_record(self, record: dict) -> None:
        """One record into the copy (under the lock)."""
        job_id, state, started = record["id"], record.get("state"), record.get("started")
        self._queued_at[job_id] = record.get("queued_at") or record.get("created") or 0
        job = self._jobs.get(job_id)
        if job is None:
            try:
                fields = job_store.revive(record) if state in FINISHED else _active_fields(record)
                job = Job(**fields)
            except (TypeError, ValueError, StudioError) as e:
                log.warning("skipping unreadable job record %s: %s", job_id, e)
                return
            self._jobs[job_id] = job
        else:
            if state == "running" and job.state in FINISHED and job.started == started:
                return  # its end event came before the worker's last word reached the record
            if started != job.started:  # started again (or queued to be), e.g. a resume
                job.info, job.batches, job.last_batch, job.result, job.batch_stride = {}, [], None, None, 1
                self._workers.pop(job_id, None)
            job.config = TrainConfig.from_dict(record["config"])
            job.owner, job.teacher, job.name = record.get("owner"), bool(record.get("teacher")), record.get("name")
            job.state, job.started, job.finished = state, started, record.get("finished")
            job.queue_position = job.queue_position if state == "queued" else None
            job.message, job.error = record.get("message") or "", record.get("error")
            job.run_dir = record.get("run_dir")
            if state in FINISHED and job.result is None and job.run_dir and not self._followed(job):
                revived = job_store.revive(record)
                job.epochs, job.result = revived.get("epochs", job.epochs), revived.get("result")
        if job.state == "running" and started is not None:
            self._follow(job)

    def _follow(self, job: Job) -> None:
        """Read the events of the job's current start (under the lock)."""
        current = self._readers.get(job.id)
        if current is None or current[0] != job.started:
            path = job_events.events_path(self.runs_root, job.id, job.started)
            self._readers[job.id] = [job.started, job_events.EventReader(path), False]

    def _reading(self, job_id: str, started) -> bool:
        """Whether the events of this start of the job are being read and have not ended (under the lock)."""
        current = self._readers.get(job_id)
        return current is not None and current[0] == started and not current[2]

    def _followed(self, job: Job) -> bool:
        current = self._readers.get(job.id)
        return current is not None and current[0] == job.started

    def _ended(self, job_id: str) -> bool:
        current = self._readers.get(job_id)
        return current is not None and current[2]

    def _apply_event(self, job_id: str, started: float, event: dict) -> None:
        kind = event.get("event")
        if kind == "start" and event.get("start_epoch", 1) > 1 and event.get("run_dir"):
            done = [m for m in runs.read_metrics(event["run_dir"]) if not m.get("partial")]
            event = {**event, "history": [m for m in done if m.get("epoch", 0) < event["start_epoch"]]}
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.started != started:
                return
            payload = {k: v for k, v in event.items() if k not in ("event", "history")}
            if kind == "worker":
                self._workers[job_id] = payload
            elif kind == "start":
                job.info, job.run_dir = payload, event.get("run_dir") or job.run_dir
                job.epochs = event.get("history", [])
            elif kind in ("end", "failed"):
                self._readers.get(job_id, [None, None, None])[2] = True
                if kind == "end":
                    job.result = payload
                    job.state, job.message = event.get("status", "completed"), event.get("message", "")
                else:
                    job.state, job.error, job.message = "failed", event.get("error"), event.get("error")
                job.finished = job.finished or time.time()
                self._wake.set()  # a slot is free
        if kind in ("batch", "epoch"):
            self._on_event(job_id, event)


def _active_fields(record: dict) -> dict:
    """Job fields of a queued or running record, as they are (a worker elsewhere may be training it)."""
    fields = {k: record.get(k) for k in job_store.FIELDS}
    fields.update(
        teacher=bool(fields["teacher"]),
        message=fields["message"] or "",
        config=TrainConfig.from_dict(record["config"]),
        queue_position=None,
    )
    return fields
