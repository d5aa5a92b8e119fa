"""Shared fixtures: where the real Fashion-MNIST is, and a loaded copy of it."""

import os
from pathlib import Path

import pytest

from core.data.dataset import DATA_DIRS

ROOT = Path(__file__).resolve().parent.parent
# The app's trainings in threads of its process (quick, no Ray started), for every test and every app a test
# starts, session fixtures included; tests/core/test_ray_jobs.py tests Ray itself, and the accessibility checks
# run their long training on the studio's local Ray (tests/e2e/test_accessibility.py).
os.environ.setdefault("FMNIST_TRAINING_EXECUTOR", "thread")
# the app's places (FMNIST_DATA_DIR, then DATA_DIRS), then the shared copy of the development machines
CANDIDATES = [os.environ.get("FMNIST_DATA_DIR"), *map(str, DATA_DIRS), str(ROOT.parent / "shared" / "data")]


def real_data_dir() -> str | None:
    from core.data.dataset import find_files

    for candidate in CANDIDATES:
        if candidate and find_files(candidate):
            return candidate
    return None


# The longest files first: the browser tests, then the benchmarks' checks. scripts/test.sh runs the suite on
# several workers (pytest-xdist, one file at a time per worker), and those started last would finish alone.
FIRST = ("tests/e2e/", "tests/bench/")


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        return next((i for i, folder in enumerate(FIRST) if item.nodeid.startswith(folder)), len(FIRST))

    items.sort(key=rank)  # stable: each file keeps its order


@pytest.fixture(scope="session")
def data_dir() -> str:
    found = real_data_dir()
    if not found:
        pytest.fail("the real Fashion-MNIST is needed: apt-get install dataset-fashion-mnist or set FMNIST_DATA_DIR")
    return found


@pytest.fixture(scope="session")
def fmnist(data_dir):
    from core.data.dataset import load

    return load(data_dir, allow_download=False)


@pytest.fixture(scope="session", autouse=True)
def _run_wide_cache(tmp_path_factory, request):
    """What module and session fixtures, and the apps they start, cache goes to one folder of this test run (both
    workers share it), never the user's cache; each test gets its own below."""
    base = tmp_path_factory.getbasetemp()  # a worker's is a folder of the run's
    folder = (base.parent if hasattr(request.config, "workerinput") else base) / "studio-cache"
    folder.mkdir(exist_ok=True)
    os.environ["FMNIST_CACHE_DIR"] = str(folder)


@pytest.fixture(autouse=True)
def _isolated_runs(tmp_path_factory, monkeypatch):
    """Runs and caches made by tests go to temp folders, never the project's runs/ or the user's cache."""
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path_factory.mktemp("runs")))
    monkeypatch.setenv("FMNIST_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
