"""The one JobManager of this server process; its job list is kept in the runs folder across restarts."""

import streamlit as st

from core.serving.jobs import JobManager
from dashboard import common


@st.cache_resource
def manager() -> JobManager:
    """Shared by every session; it lives as long as the server, so trainings survive reruns and reloads."""
    return JobManager(persist=True, data_loader=common.load_dataset_or_fail)
