"""README's two commands and CI: app.sh hands its arguments to Streamlit, test.sh runs ruff then pytest and
keeps their exit status, .ci/run takes the project's .venv whatever environment it starts from."""

import pytest

from tests.scripts.sandbox import APP, TEST, VENV, Sandbox, own_venv

VENV_PYTHON = "repo/.venv/bin/python"
RUFF = [(VENV_PYTHON, ["-m", "ruff", "check", "."]), (VENV_PYTHON, ["-m", "ruff", "format", "--check", "."])]


@pytest.fixture
def sandbox(tmp_path) -> Sandbox:
    sandbox = Sandbox(tmp_path)
    sandbox.add_python("3.11")
    return sandbox


def test_app_installs_then_passes_its_arguments_to_streamlit(sandbox):
    streamlit = ["-m", "streamlit", "run", "dashboard/Home.py", "--server.port", "8600", "--server.headless", "true"]
    run = sandbox.run("scripts/app.sh", "--server.port", "8600", "--server.headless", "true")
    assert run.returncode == 0, run.stderr
    assert sandbox.calls() == [("bin/python3", VENV), *own_venv(VENV_PYTHON, APP), (VENV_PYTHON, streamlit)]
    again = sandbox.run("scripts/app.sh", "--server.port", "8600", "--server.headless", "true")
    assert (again.returncode, again.stdout) == (0, "")
    assert sandbox.calls() == [(VENV_PYTHON, streamlit)]


def test_app_exits_with_streamlits_status(sandbox):
    assert sandbox.run("scripts/app.sh", FAKE_EXIT_STREAMLIT="3").returncode == 3


# a worker per core, at most 4, each test file whole on one worker, in the order tests/conftest.py gives
WORKERS = ["-n", "auto", "--maxprocesses", "4", "--dist", "loadfile", "--no-loadscope-reorder"]


@pytest.mark.parametrize("pytest_status", [0, 1, 5])
def test_test_runs_ruff_then_pytest_with_its_arguments_and_keeps_pytests_status(sandbox, pytest_status):
    run = sandbox.run("scripts/test.sh", "-q", "tests/core/test_layout.py", FAKE_EXIT_PYTEST=str(pytest_status))
    assert run.returncode == pytest_status
    assert sandbox.calls() == [
        ("bin/python3", VENV),
        *own_venv(VENV_PYTHON, TEST),
        *RUFF,
        (VENV_PYTHON, ["-m", "pytest", *WORKERS, "-q", "tests/core/test_layout.py"]),
    ]


def test_a_ruff_finding_fails_the_tests_before_pytest_runs(sandbox):
    run = sandbox.run("scripts/test.sh", FAKE_EXIT_RUFF="1")
    assert run.returncode == 1
    assert sandbox.calls()[-1] == RUFF[0]


def test_ci_uses_the_projects_venv_whatever_environment_it_starts_from(sandbox):
    env = sandbox.root / "env"
    sandbox.add_python("3.12", env / "bin" / "python")
    run = sandbox.run(".ci/run", VIRTUAL_ENV=str(env), CONDA_PREFIX=str(env), PYTHON=str(env / "bin" / "python"))
    assert run.returncode == 0, run.stderr
    assert sandbox.calls() == [
        ("bin/python3", VENV),
        *own_venv(VENV_PYTHON, TEST),
        *RUFF,
        (VENV_PYTHON, ["-m", "pytest", *WORKERS]),
    ]
