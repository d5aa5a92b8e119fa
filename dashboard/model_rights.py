"""Who may rename or delete a model on the Models page: the one place that decides it."""

from pathlib import Path

import streamlit as st

from core.library import catalog
from dashboard import classroom
from dashboard.train import training

IMPORTED_HERE = "models_imported_here"  # session state: paths this browser session imported


def can_manage(entry: "catalog.ModelEntry") -> bool:
    """Shipped models: nobody. A run: the browser whose training job made it, or the teacher. An import: the
    session that imported it, or the teacher."""
    if entry.source == "shipped":
        return False
    if classroom.is_teacher():
        return True
    if entry.source == "run":
        mine = {
            Path(job.run_dir).resolve()
            for job in training.manager().jobs(owner=classroom.owner_secret())
            if job.run_dir
        }
        return entry.path.parent.resolve() in mine
    if entry.source == "imported":
        return str(entry.path.resolve()) in st.session_state.get(IMPORTED_HERE, set())
    return False


def remember_import(path: Path) -> None:
    st.session_state.setdefault(IMPORTED_HERE, set()).add(str(Path(path).resolve()))
