"""scripts/install.sh's decisions: which Python, making .venv, python3.X-venv without ensurepip, the supported
versions, and the stamp that makes a second run install nothing. Fake Pythons stand in (sandbox.py)."""

import pytest

from tests.scripts.sandbox import APP, PIP_APP, PIP_TEST, TEST, VENV, Sandbox, own_venv


@pytest.fixture
def sandbox(tmp_path) -> Sandbox:
    return Sandbox(tmp_path)


def test_the_first_run_makes_venv_with_python3_and_installs_into_it(sandbox):
    sandbox.add_python("3.11")
    run = sandbox.run("scripts/install.sh", "app")
    assert run.returncode == 0, run.stderr
    assert sandbox.calls() == [("bin/python3", VENV), *own_venv("repo/.venv/bin/python", APP)]
    assert run.stdout.splitlines()[0] == "Making the virtual environment .venv with python3 (Python 3.11)"
    requirements = (sandbox.repo / "requirements.txt").read_text()
    assert sandbox.stamp("app") == "# installed by scripts/install.sh app for Python 3.11\n" + requirements


def test_a_second_run_installs_nothing_until_the_requirements_change(sandbox):
    sandbox.add_python("3.11")
    assert sandbox.run("scripts/install.sh", "app").returncode == 0
    second = sandbox.run("scripts/install.sh", "app")
    assert (second.returncode, second.stdout, second.stderr) == (0, "", "")
    assert sandbox.calls() == []
    with open(sandbox.repo / "requirements.txt", "a") as requirements:
        requirements.write("six==1.16.0\n")
    assert sandbox.run("scripts/install.sh", "app").returncode == 0
    assert sandbox.calls() == own_venv("repo/.venv/bin/python", APP)
    assert sandbox.stamp("app").endswith("six==1.16.0\n")


def test_the_test_mode_adds_the_dev_requirements_and_stamps_both_modes(sandbox):
    sandbox.add_python("3.11")
    assert sandbox.run("scripts/install.sh", "test").returncode == 0
    assert sandbox.calls() == [("bin/python3", VENV), *own_venv("repo/.venv/bin/python", TEST)]
    for mode in ("app", "test"):
        assert sandbox.run("scripts/install.sh", mode).returncode == 0
        assert sandbox.calls() == []
    (sandbox.repo / "requirements-dev.txt").write_text("pytest==9.0.3\n")
    assert sandbox.run("scripts/install.sh", "app").returncode == 0
    assert sandbox.calls() == []
    assert sandbox.run("scripts/install.sh", "test").returncode == 0
    assert sandbox.calls() == own_venv("repo/.venv/bin/python", TEST)


def test_without_ensurepip_and_not_root_one_line_says_the_apt_command(sandbox):
    sandbox.add_python("3.11")
    sandbox.add_apt_get()
    sandbox.without_ensurepip()
    run = sandbox.run("scripts/install.sh", "app")
    assert run.returncode == 1
    assert run.stderr == (
        "error: python3 cannot make a virtual environment (ensurepip is not available): "
        "run 'sudo apt install python3.11-venv', then run this again\n"
    )
    assert sandbox.calls() == [("bin/python3", VENV)]
    assert not (sandbox.repo / ".venv").exists()


def test_without_ensurepip_or_apt_one_line_names_the_missing_module(sandbox):
    sandbox.add_python("3.12")
    sandbox.without_ensurepip()
    run = sandbox.run("scripts/install.sh", "app", FAKE_UID="0")
    assert run.returncode == 1
    assert run.stderr == (
        "error: python3 cannot make a virtual environment (ensurepip is not available): "
        "install the venv module of Python 3.12, then run this again\n"
    )


def test_without_ensurepip_as_root_apt_installs_the_versioned_venv_package(sandbox):
    sandbox.add_python("3.12")
    sandbox.add_apt_get()
    sandbox.without_ensurepip()
    run = sandbox.run("scripts/install.sh", "app", FAKE_UID="0")
    assert run.returncode == 0, run.stderr
    # (where Debian's dataset is missing, apt-get is asked for it afterwards)
    assert sandbox.calls()[:6] == [
        ("bin/python3", VENV),
        ("bin/apt-get", ["update", "-qq"]),
        ("bin/apt-get", ["install", "-y", "-qq", "python3.12-venv"]),
        ("bin/python3", VENV),
        *own_venv("repo/.venv/bin/python", APP, "3.12"),
    ]
    assert "Installing python3.12-venv with apt-get: python3 -m venv needs it" in run.stdout.splitlines()


@pytest.mark.parametrize("version", ["3.9", "3.14"])
def test_an_unsupported_python3_is_one_line(sandbox, version):
    sandbox.add_python(version)
    run = sandbox.run("scripts/install.sh", "app")
    assert run.returncode == 1
    assert run.stderr == (
        f"error: Fashion-MNIST Studio needs Python 3.10 to 3.13, and python3 is Python {version}: "
        "install one of those (as python3 or python3.N on PATH), then run this again\n"
    )
    assert sandbox.calls() == []
    assert not (sandbox.repo / ".venv").exists()


def test_the_supported_versions_come_from_pyproject(sandbox):
    pyproject = sandbox.repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('">=3.10,<3.14"', '">=3.11,<3.13"'))
    sandbox.add_python("3.10")
    run = sandbox.run("scripts/install.sh", "app")
    assert run.returncode == 1
    assert run.stderr.startswith("error: Fashion-MNIST Studio needs Python 3.11 to 3.12, and python3 is Python 3.10:")


def test_no_python3_at_all_is_one_line(sandbox):
    run = sandbox.run("scripts/install.sh", "app")
    assert run.returncode == 1
    assert run.stderr == (
        "error: Fashion-MNIST Studio needs Python 3.10 to 3.13, and there is no python3 on PATH: "
        "install one, then run this again\n"
    )


def test_when_python3_is_too_old_the_newest_supported_python3_x_makes_the_venv(sandbox):
    sandbox.add_python("3.9")
    sandbox.add_python("3.11", sandbox.bin / "python3.11")
    sandbox.add_python("3.12", sandbox.bin / "python3.12")
    run = sandbox.run("scripts/install.sh", "app")
    assert run.returncode == 0, run.stderr
    assert sandbox.calls() == [("bin/python3.12", VENV), *own_venv("repo/.venv/bin/python", APP, "3.12")]


@pytest.mark.parametrize("variable", ["VIRTUAL_ENV", "CONDA_PREFIX"])
def test_an_active_environment_is_used_instead_of_venv(sandbox, variable):
    sandbox.add_python("3.11")
    env = sandbox.root / "env"
    sandbox.add_python("3.12", env / "bin" / "python")
    assert sandbox.run("scripts/install.sh", "app", **{variable: str(env)}).returncode == 0
    assert sandbox.calls() == [("env/bin/python", PIP_APP)]
    assert sandbox.stamp("app", env).startswith("# installed by scripts/install.sh app for Python 3.12\n")
    assert not (sandbox.repo / ".venv").exists()
    assert sandbox.run("scripts/install.sh", "app", **{variable: str(env)}).returncode == 0
    assert sandbox.calls() == []


def test_an_active_environment_with_an_unsupported_python_is_one_line(sandbox):
    env = sandbox.root / "env"
    sandbox.add_python("3.9", env / "bin" / "python")
    run = sandbox.run("scripts/install.sh", "app", VIRTUAL_ENV=str(env))
    assert run.returncode == 1
    assert run.stderr == (
        f"error: Fashion-MNIST Studio needs Python 3.10 to 3.13, and the active virtual environment {env} has "
        "Python 3.9: deactivate it to use .venv, or activate one with a supported Python\n"
    )


def test_PYTHON_is_used_as_it_is_with_no_venv_and_no_stamp(sandbox):
    python = sandbox.add_python("3.13", sandbox.root / "opt" / "python3.13")
    for _ in range(2):
        assert sandbox.run("scripts/install.sh", "test", PYTHON=str(python)).returncode == 0
        assert sandbox.calls() == [("opt/python3.13", PIP_TEST)]
    assert not (sandbox.repo / ".venv").exists()


def test_a_venv_that_no_longer_runs_is_made_again(sandbox):
    sandbox.add_python("3.11")
    broken = sandbox.repo / ".venv" / "bin" / "python"
    broken.parent.mkdir(parents=True)
    broken.write_text("#!/nonexistent/python3.8\n")
    broken.chmod(0o755)
    run = sandbox.run("scripts/install.sh", "app")
    assert run.returncode == 0, run.stderr
    assert (
        run.stdout.splitlines()[0] == ".venv does not run (was the Python it was made with removed?): making it again"
    )
    assert sandbox.calls() == [("bin/python3", VENV), *own_venv("repo/.venv/bin/python", APP)]


def test_a_failing_pip_fails_the_install_and_leaves_no_stamp(sandbox):
    sandbox.add_python("3.11")
    run = sandbox.run("scripts/install.sh", "app", FAKE_EXIT_PIP="1")
    assert run.returncode == 1
    assert run.stderr == "error: pip could not install into .venv (above)\n"
    assert not (sandbox.repo / ".venv" / "fashion-mnist-studio-app.installed").exists()
