"""The one JobManager of this server process, and the id of the browser session asking."""

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.training.jobs import JobManager


@st.cache_resource
def manager() -> JobManager:
    """Shared by every session; it lives as long as the server, so trainings survive reruns and reloads."""
    return JobManager()


def session_id() -> str:
    """This browser tab's session id (it changes when the page is reloaded)."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else "no-session"
