"""The one JobManager of this server process; its job list is kept in the runs folder across restarts.

Trainings run in Ray workers, not in this server (FMNIST_TRAINING_EXECUTOR=thread: in its threads), so every
server on the same runs folder lists them and a restarted server finds them still running.
"""

import streamlit as st

from core.serving.jobs import JobManager
from core.serving.shared_jobs import server_jobs
from dashboard import common


@st.cache_resource
def manager() -> JobManager:
    """Shared by every session; it lives as long as the server, so trainings survive reruns and reloads."""
    return server_jobs(data_loader=common.load_dataset_or_fail)
