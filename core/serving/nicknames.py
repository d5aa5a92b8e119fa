"""Nicknames: what a class calls each browser (no accounts), by the digest of its owner secret.

A nickname is short printable text: spaces around it are dropped and runs of spaces become one, at most
MAX_LENGTH characters. Two browsers never share one: a name already taken (in any case) gets " 2", " 3"...
The list is kept in `<runs>/nicknames.json`, written atomically, so a restarted server still knows everyone.
"""

import json
import logging
import threading

from core.base.errors import StudioError
from core.base.files import write_atomic
from core.io import runs

log = logging.getLogger(__name__)

FILE = "nicknames.json"
MAX_LENGTH = 20


def tidy(text) -> str:
    """`text` as a nickname, or StudioError with one line saying why it cannot be one."""
    if not isinstance(text, str):
        raise StudioError("a nickname is text.")
    name = " ".join(text.split())
    if not name:
        raise StudioError("the nickname is empty: type one.")
    if not name.isprintable():
        raise StudioError("a nickname may hold letters, digits, spaces and punctuation only.")
    if len(name) > MAX_LENGTH:
        raise StudioError(f"the nickname is {len(name)} characters; the limit is {MAX_LENGTH}.")
    return name


class Nicknames:
    """Every browser's nickname (digest -> nickname), shared by every session of the server."""

    def __init__(self, runs_root=None):
        self.path = runs.runs_dir(runs_root) / FILE
        self._lock = threading.Lock()
        self._names: dict[str, str] = self._read()

    def get(self, who: str) -> str | None:
        with self._lock:
            return self._names.get(who)

    def all(self) -> dict[str, str]:
        with self._lock:
            return dict(self._names)

    def set(self, who: str, text) -> str:
        """Give the browser `who` (a digest) the nickname `text`; returns it as kept (made unique)."""
        wanted = tidy(text)
        with self._lock:
            if self._names.get(who) == wanted:
                return wanted
            taken = {name.casefold() for owner, name in self._names.items() if owner != who}
            name, n = wanted, 1
            while name.casefold() in taken:
                n += 1
                suffix = f" {n}"
                name = wanted[: MAX_LENGTH - len(suffix)] + suffix
            self._names[who] = name
            self._write()
            return name

    def _read(self) -> dict[str, str]:
        found = runs.read_json(self.path)
        if not isinstance(found, dict):
            if self.path.exists():
                log.warning("cannot read %s: starting without nicknames", self.path)
            return {}
        return {k: v for k, v in found.items() if isinstance(k, str) and isinstance(v, str)}

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps(self._names, indent=1, ensure_ascii=False))
