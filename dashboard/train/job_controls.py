"""The buttons that act on a training — only for its owner or the teacher — and the teacher's queue tool."""

import streamlit as st

from core.base.errors import StudioError
from core.serving import job_store
from core.serving.jobs import Job, JobManager

RESUMABLE = ("stopped", "interrupted")


def act(action, *args) -> None:
    """Run a manager action from a button; a refusal becomes the page's one-line error."""
    try:
        action(*args)
        st.session_state.pop("train_error", None)
    except StudioError as e:
        st.session_state.train_error = str(e)


def finished_controls(jobs: JobManager, job: Job, owner: str | None) -> None:
    """Resume and Delete for a finished job; `owner` is the asker's secret, or None for the teacher."""
    cols = st.columns([1, 1, 4])
    if job.state in RESUMABLE and job_store.resumable(job.run_dir):
        cols[0].button(
            "Resume",
            key=f"resume_{job.id}",
            icon=":material/resume:",
            on_click=act,
            args=(jobs.resume, job.run_dir, owner),
            help="Continue from the last finished epoch, in the same run folder.",
        )
    if job.run_dir or job.state in ("dropped", "stopped", "failed"):
        cols[1].button(
            "Delete",
            key=f"delete_{job.id}",
            icon=":material/delete:",
            on_click=act,
            args=(jobs.delete, job.id, owner),
            help="Remove this training and its run folder.",
        )


def teacher_tools(jobs: JobManager) -> None:
    queued = sum(1 for j in jobs.jobs() if j.state == "queued")
    if st.button(
        f"Clear the queue ({queued})", key="teacher_clear_queue", icon=":material/clear_all:", disabled=not queued
    ):
        st.session_state.train_notice = f"Cancelled {jobs.clear_queue()} queued trainings."
