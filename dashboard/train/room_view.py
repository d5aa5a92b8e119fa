"""Train in projector view: what a room reads of the training under way, nothing to click.

The training shown is the one running on the server (this browser's own first, when several run); its title,
progress line and live curves, each chart a screen high. When nothing runs, one line says so and what the latest
run reached, above that run's curves. The view polls every second, so a training started from another screen
appears on the wall by itself.
"""

import streamlit as st

from core.serving.jobs import Job, JobManager
from dashboard.train import train_panel

POLL_SECONDS = 1


def shown(jobs: JobManager, me: str) -> tuple[Job | None, Job | None, int]:
    """(the running training to show or None, the latest finished one or None, how many wait in the queue)."""
    everything = jobs.jobs()  # newest first
    running = [j for j in everything if j.state == "running"]
    running.sort(key=lambda j: not jobs.owns(j, me))  # this browser's own first, newest first within each
    finished = [j for j in everything if not j.active]
    latest = max(finished, key=lambda j: j.finished or j.created, default=None)
    queued = sum(j.state == "queued" for j in everything)
    return (running[0] if running else None), latest, queued


def outcome(job: Job) -> str:
    """What a finished training reached, in a few words."""
    result, state = job.result or {}, train_panel.STATE_LABELS[job.state]
    if result.get("test_accuracy") is not None:
        return (
            f"reached **{result['test_accuracy']:.2%}** test accuracy on {train_panel.tested_on(job)} after "
            f"{train_panel.duration(result['seconds'])}"
        )
    seen = [e["val_accuracy"] for e in job.epochs if e.get("val_accuracy") is not None]
    if seen:
        return f"reached **{max(seen):.2%}** validation accuracy ({state})"
    return f"ended before its first epoch ({state})"


def idle_line(latest: Job | None, queued: int) -> str:
    """The one line shown when nothing trains."""
    waiting = f" ({queued} waiting in the queue)" if queued else ""
    if latest is None:
        return f"Nothing is training now{waiting}, and no training has run on this server yet."
    return f"Nothing is training now{waiting}. The latest run, **{train_panel.title(latest)}**, {outcome(latest)}."


@st.fragment(run_every=POLL_SECONDS)
def show(jobs: JobManager, me: str) -> None:
    """The room's view of the Train page (see the module docstring)."""
    running, latest, queued = shown(jobs, me)
    if running is not None:
        st.subheader(f"{train_panel.title(running)} — {train_panel.STATE_LABELS[running.state]}")
        train_panel.progress(running)
        if running.epochs or running.batches:
            train_panel.curves(running)
        return
    st.info(idle_line(latest, queued), icon=":material/hourglass_empty:")
    if latest is not None and (latest.epochs or latest.batches):
        train_panel.curves(latest)
