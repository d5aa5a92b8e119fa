"""A stand-in for a Python interpreter in the install scripts' tests (tests/scripts/sandbox.py copies it with
its own VERSION). Every call is appended to FAKE_LOG as a JSON line. `-c CODE` prints the version, which is
all the scripts ask that way; `-m venv DIR` makes DIR/bin/python, a copy of this program, or fails as
Debian's Python does without ensurepip (FAKE_STATE/no-ensurepip, until FAKE_STATE/pythonX.Y-venv exists);
`-m MODULE ...` exits with FAKE_EXIT_<MODULE> (0 by default).
"""

import json
import os
import shutil
import sys
from pathlib import Path

VERSION = "3.11"
NO_ENSUREPIP = """The virtual environment was not created successfully because ensurepip is not
available.  On Debian/Ubuntu systems, you need to install the python3-venv
package using the following command.

    apt install python{version}-venv

You may need to use sudo with that command.  After installing the python3-venv
package, recreate your virtual environment.

Failing command: {python}
"""


def make_venv(folder: Path) -> int:
    python = folder / "bin" / "python"
    python.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(sys.argv[0], python)
    state = Path(os.environ["FAKE_STATE"])
    if (state / "no-ensurepip").exists() and not (state / f"python{VERSION}-venv").exists():
        print(NO_ENSUREPIP.format(version=VERSION, python=python.absolute()))
        return 1
    return 0


def main(args: list[str]) -> int:
    with open(os.environ["FAKE_LOG"], "a") as log:
        log.write(json.dumps({"program": sys.argv[0], "args": args}) + "\n")
    if args[:1] == ["-c"]:
        print(VERSION)
        return 0
    if args[:2] == ["-m", "venv"]:
        return make_venv(Path(args[2]))
    if args[:1] == ["-m"]:
        return int(os.environ.get(f"FAKE_EXIT_{args[1].upper()}", "0"))
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
