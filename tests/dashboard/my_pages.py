"""Shared setup for the Evaluate, Feature maps and Classify page tests: the one trained model as the only
model in the catalog, and a page opened through the real navigation with session state preset."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.analysis import evaluation
from core.library import catalog
from tests.dashboard.studio_app import HOME, forget_caches
from tests.trained_model import checkpoint_in, trained_run


def use_trained_model(monkeypatch, tmp_path_factory, data_dir, shipped_dir: Path) -> Path:
    """Point the catalog at the trained run only; returns its checkpoint."""
    root = trained_run(tmp_path_factory.getbasetemp() / "trained", data_dir)
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(root))
    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    monkeypatch.setattr(catalog, "SHIPPED_DIR", shipped_dir)
    forget_caches()
    return checkpoint_in(root)


def open_page(page: str, **state) -> AppTest:
    at = AppTest.from_file(HOME, default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def label_of(path) -> str:
    [entry] = [m for m in catalog.all_models() if m.path == Path(path)]
    return entry.label


def evaluation_of(path, fmnist):
    return evaluation.evaluate(path, fmnist)
