"""One job of the queue, run in this process wherever an executor put it (a Ray worker, or a thread).

It needs nothing from the server that queued it but a plain `spec` (job_spec): it loads the data itself, trains
or resumes, writes every event to the job's events file, stops when a stop request appears in the runs folder,
and writes its run folder and its outcome into the job's record (core.serving.job_events).
"""

import os
import socket
import time

from core.serving import job_events, priority
from core.training.config import TrainConfig
from core.training.trainer import Trainer

CANCELLED = "cancelled before it started"


def job_spec(job, runs_root, data_dir=None, threads: int | None = None) -> dict:
    """What a worker needs to run `job` (a core.serving.jobs.Job just marked running): plain values only."""
    return {
        "job_id": job.id,
        "started": job.started,
        "runs_root": str(runs_root) if runs_root is not None else None,
        "data_dir": str(data_dir) if data_dir else None,
        "config": job.config.to_dict(),
        "name": job.name,
        "run_dir": job.run_dir,  # set: continue this run (a resume); None: a new run
        "threads": threads,
    }


def run(spec: dict, data=None, node: str | None = None) -> dict:
    """Run the job of `spec` to its end; returns the fields its record ends with (state, message, error)."""
    from core.serving.jobs import summarize_error  # the one wording of a failure

    root, job_id, started = spec["runs_root"], spec["job_id"], spec["started"]
    events = job_events.EventWriter(job_events.events_path(root, job_id, started))
    events.write(
        {"event": "worker", "pid": os.getpid(), "host": socket.gethostname(), "node": node, "time": time.time()}
    )
    job_events.clear_waiting(root, job_id, started)  # it waited for room on the cluster: no more
    watch = None
    try:
        if job_events.stop_path(root, job_id).exists():  # stopped while it waited for a worker
            outcome = {"state": "stopped", "message": CANCELLED, "error": None}
            events.write({"event": "end", "status": "stopped", "message": CANCELLED})
        else:
            if spec.get("threads"):
                os.environ["FMNIST_THREADS"] = str(spec["threads"])  # this process is the training's alone
            if spec.get("nice"):
                priority.lower_process(spec["nice"])  # a worker process of its own: the pages of a server come first
            trainer = _trainer(spec, data, events)
            watch = job_events.StopWatch(job_events.stop_path(root, job_id), trainer.stop)
            result = trainer.run()
            outcome = {"state": result.status, "message": result.message, "error": None}
    except Exception as e:  # the job must end with one line, whatever happened
        error = summarize_error(e)
        events.write({"event": "failed", "error": error})
        outcome = {"state": "failed", "message": error, "error": error}
    finally:
        if watch is not None:
            watch.close()
        events.close()
    job_events.update_record(root, job_id, started, finished=time.time(), **outcome)
    return outcome


def _trainer(spec: dict, data, events: job_events.EventWriter) -> Trainer:
    root, job_id, started = spec["runs_root"], spec["job_id"], spec["started"]

    def on_event(event: dict) -> None:
        events.write(event)
        if event.get("event") == "start":  # every server learns the run folder from the record too
            job_events.update_record(root, job_id, started, run_dir=event.get("run_dir"))

    if data is None:
        from core.data.dataset import load

        data = load(spec["data_dir"], allow_download=False)
    config = TrainConfig.from_dict(spec["config"])
    if spec.get("run_dir"):
        return Trainer.resume(
            spec["run_dir"], data, epochs=config.epochs, runs_root=root, name=spec["name"], on_event=on_event
        )
    return Trainer(config, data, runs_root=root, name=spec["name"], on_event=on_event)
