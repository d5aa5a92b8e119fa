"""The Train page's Resume: continue a stopped run, or one whose server died mid-training, for more epochs."""

import streamlit as st

from core.errors import StudioError
from core.training import resume
from core.training.jobs import JobManager


def show(jobs: JobManager, owner: str) -> None:
    candidates = resume.resumable_runs()
    with st.expander(f"Continue a stopped or interrupted run ({len(candidates)})"):
        st.caption("A run keeps its state after every epoch. Resume goes on from the last finished epoch, in the "
                   "same run folder, so its curves continue where they stopped.")
        if not candidates:
            st.info("No run to continue: stopped runs and runs whose server stopped mid-training appear here.")
            return
        by_name = {c["run_dir"].name: c for c in candidates}
        def describe(n: str) -> str:
            c = by_name[n]
            return f"{n} — {c['status']} after {c['epochs_done']} of {c['epochs_planned']} epochs"

        name = st.selectbox("Run", list(by_name), key="train_resume_run", format_func=describe)
        chosen = by_name[name]
        epochs = int(st.number_input("Epochs in all", chosen["epochs_done"] + 1, 500,
                                     value=max(chosen["epochs_planned"] or 1, chosen["epochs_done"] + 1),
                                     key=f"train_resume_epochs_{name}",
                                     help="The run's total number of epochs after resuming."))
        if st.button("Resume", icon=":material/resume:", key="train_resume"):
            try:
                st.session_state.train_job = jobs.resume(chosen["run_dir"], owner=owner, epochs=epochs)
                st.session_state.pop("train_experiment", None)
                st.session_state.pop("train_resume_error", None)
                st.rerun()
            except StudioError as e:
                st.session_state.train_resume_error = str(e)
        if st.session_state.get("train_resume_error"):
            st.error(st.session_state.train_resume_error)
