"""Shared UI helpers: cached dataset and model loading, model picker, page intro. No training math here."""

from pathlib import Path

import streamlit as st

from core.base.errors import StudioError
from core.data import dataset
from core.io import checkpoint
from core.library import catalog
from dashboard import classroom


def intro(title: str, text: str) -> None:
    """Every page opens with its title and two or three teaching sentences."""
    st.title(title)
    st.markdown(text)


@st.cache_resource(show_spinner="Loading Fashion-MNIST…")
def _load_dataset():
    return dataset.load(allow_download=False)


def load_dataset_or_fail():
    """The cached dataset, raising StudioError if it is missing (for background work)."""
    return _load_dataset()


def get_dataset():
    """The dataset, or None after showing how to get it (never a traceback)."""
    try:
        return _load_dataset()
    except StudioError as e:
        st.warning(str(e))
        return None


def dataset_if_present():
    """The dataset if its files are there, else None without a word (for pages that also work without it)."""
    return get_dataset() if dataset.locate() else None


@st.cache_resource(show_spinner="Loading model…", max_entries=32)
def _load_model(path: str, mtime: float):
    return checkpoint.load(path)


def load_model(path) -> "checkpoint.LoadedModel | None":
    """A cached LoadedModel for a checkpoint path (reloaded if the file changed), or None with a message."""
    path = Path(path)
    try:
        return _load_model(str(path), path.stat().st_mtime)
    except (StudioError, OSError) as e:
        st.error(str(e) if isinstance(e, StudioError) else f"cannot read {path.name}: {e.strerror}")
        return None


def viewer() -> str | None:
    """Who is looking, for the lists of models: this browser's owner digest, or None for the teacher, who sees
    every model (a taught model is listed only to the browser that taught it until the teacher shares it)."""
    return None if classroom.is_teacher() else classroom.my_digest()


def available_models() -> list[catalog.ModelEntry]:
    """Every model this browser may pick (see `viewer`)."""
    return catalog.all_models(viewer=viewer())


def picked_model(key: str) -> tuple["catalog.ModelEntry", "checkpoint.LoadedModel"]:
    """The model picker and the chosen model, loaded; the page stops (after a hint or the error) if there is none."""
    entry = model_picker(key)
    loaded = load_model(entry.path) if entry is not None else None
    if loaded is None:
        st.stop()
    return entry, loaded


def model_picker(key: str, label: str = "Model", archs=None) -> "catalog.ModelEntry | None":
    """A selectbox of shipped and trained models; None (with a hint) if there are none."""
    models = [m for m in available_models() if archs is None or m.arch in archs]
    if not models:
        st.info("No models yet: train one on the Train page.")
        return None
    labels = [m.label for m in models]
    choice = st.selectbox(label, labels, key=key)
    return models[labels.index(choice)]
