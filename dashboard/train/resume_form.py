"""The Train page's Resume: continue a stopped run, or one whose server died mid-training, for more epochs."""

from pathlib import Path

import streamlit as st

from core.base.errors import StudioError
from core.serving.jobs import JobManager
from core.training import resume


def show(jobs: JobManager, owner: str, teacher: bool = False) -> None:
    """Runs this browser may continue (its own; every run for the teacher), with a new number of epochs."""
    candidates = [c for c in resume.resumable_runs() if teacher or _owned(jobs, c["run_dir"], owner)]
    with st.expander(f"Continue a stopped or interrupted run ({len(candidates)})"):
        st.caption(
            "A run keeps its state after every epoch. Resume goes on from the last finished epoch, in the "
            "same run folder, so its curves continue where they stopped."
        )
        if not candidates:
            st.info("No run to continue: stopped runs and runs whose server stopped mid-training appear here.")
            return
        by_name = {c["run_dir"].name: c for c in candidates}

        def describe(n: str) -> str:
            c = by_name[n]
            return f"{n} — {c['status']} after {c['epochs_done']} of {c['epochs_planned']} epochs"

        name = st.selectbox("Run", list(by_name), key="train_resume_run", format_func=describe)
        chosen = by_name[name]
        epochs = int(
            st.number_input(
                "Epochs in all",
                chosen["epochs_done"] + 1,
                500,
                value=max(chosen["epochs_planned"] or 1, chosen["epochs_done"] + 1),
                key=f"train_resume_epochs_{name}",
                help="The run's total number of epochs after resuming.",
            )
        )
        if st.button("Resume", icon=":material/resume:", key="train_resume"):
            try:
                st.session_state.train_show_next = jobs.resume(
                    chosen["run_dir"], owner=None if teacher else owner, epochs=epochs
                )
                st.session_state.pop("train_experiment", None)
                st.session_state.pop("train_resume_error", None)
                st.rerun()
            except StudioError as e:
                st.session_state.train_resume_error = str(e)
        if st.session_state.get("train_resume_error"):
            st.error(st.session_state.train_resume_error)


def _owned(jobs: JobManager, run_dir, owner: str) -> bool:
    """Whether the server's job for this run folder belongs to `owner` (runs it has no job for are the teacher's)."""
    folder = str(run_dir)
    return any(
        j.run_dir and Path(j.run_dir).resolve() == Path(folder).resolve() and jobs.owns(j, owner) for j in jobs.jobs()
    )
