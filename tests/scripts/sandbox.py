"""A copy of the project's shell scripts that runs against stand-in programs, so the tests see every decision
the scripts make (which Python, whether to make .venv, whether to install) without installing anything.

PATH holds only the shell tools the scripts use plus the stand-ins: fake Pythons (tests/scripts/fake_python.py,
which log every call to a JSON-lines file), `id` (FAKE_UID, default 1000: not root) and, when asked for,
`apt-get` (logs its calls; "installing" pythonX.Y-venv gives that fake Python its ensurepip).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COPIED = [
    "scripts/install.sh",
    "scripts/app.sh",
    "scripts/test.sh",
    "scripts/python_env.sh",
    ".ci/run",
    "pyproject.toml",
    "requirements.txt",
    "requirements-dev.txt",
]
SHELL_TOOLS = ["bash", "sed", "cat", "rm", "dirname"]
FAKE_PYTHON = Path(__file__).with_name("fake_python.py")
FAKE_APT_GET = """
import json, os, pathlib, sys
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({"program": sys.argv[0], "args": sys.argv[1:]}) + "\\n")
if "install" in sys.argv:
    for package in sys.argv[sys.argv.index("install") + 1 :]:
        if not package.startswith("-"):
            (pathlib.Path(os.environ["FAKE_STATE"]) / package).touch()
"""


def write_program(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable} -S\n{source}")
    path.chmod(0o755)
    return path


class Sandbox:
    def __init__(self, tmp_path: Path):
        self.root = tmp_path
        self.repo = tmp_path / "repo"
        for name in COPIED:
            (self.repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, self.repo / name)
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        for tool in SHELL_TOOLS:
            (self.bin / tool).symlink_to(shutil.which(tool))
        (self.bin / "id").write_text('#!/bin/sh\necho "${FAKE_UID:-1000}"\n')
        (self.bin / "id").chmod(0o755)
        self.state = tmp_path / "state"
        self.state.mkdir()
        self.log = tmp_path / "calls.jsonl"
        self.log.touch()
        self.env = {
            "PATH": str(self.bin),
            "HOME": str(tmp_path),
            "LC_ALL": "C",
            "FAKE_LOG": str(self.log),
            "FAKE_STATE": str(self.state),
        }

    def add_python(self, version: str, path: Path | None = None) -> Path:
        """A fake Python reporting `version`, as python3 on PATH unless `path` says where."""
        source = FAKE_PYTHON.read_text().replace('VERSION = "3.11"', f'VERSION = "{version}"', 1)
        return write_program(path or self.bin / "python3", source)

    def add_apt_get(self) -> None:
        write_program(self.bin / "apt-get", FAKE_APT_GET)

    def without_ensurepip(self) -> None:
        """`-m venv` fails as on Debian without pythonX.Y-venv, until apt-get installs that package."""
        (self.state / "no-ensurepip").touch()

    def run(self, script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
        self.log.write_text("")
        return subprocess.run(
            [shutil.which("bash"), str(self.repo / script), *args],
            cwd=self.root,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )

    def calls(self) -> list[tuple[str, list[str]]]:
        """The last run's calls of the fake programs, (path relative to the sandbox, arguments), leaving out the
        scripts' version questions (`python -c ...`)."""
        calls = []
        for line in self.log.read_text().splitlines():
            call = json.loads(line)
            if call["args"][:1] != ["-c"]:
                calls.append((os.path.relpath(call["program"], self.root), call["args"]))
        return calls

    def stamp(self, mode: str, env: Path | None = None) -> str:
        return ((env or self.repo / ".venv") / f"fashion-mnist-studio-{mode}.installed").read_text()


PIP = ["-m", "pip", "install", "--quiet"]
APP = ["-r", "requirements.txt"]
TEST = APP + ["-r", "requirements-dev.txt"]
PIP_APP = PIP + ["--compile", *APP]  # into an environment the studio did not make: pip as usual
PIP_TEST = PIP + ["--compile", *TEST]


def own_venv(python: str, requirements: list[str], version: str = "3.11") -> list[tuple[str, list[str]]]:
    """The calls that install into the project's .venv: pip without its byte-compiling, then compileall on every
    core (the fake's answer to `-c`, its version, stands for the site-packages folder)."""
    return [(python, [*PIP, "--no-compile", *requirements]), (python, ["-m", "compileall", "-q", "-j", "0", version])]


VENV = ["-m", "venv", ".venv"]
