"""Nicknames: what a class calls each browser (no accounts), by the digest of its owner secret.

A nickname is short printable text: spaces around it are dropped and runs of spaces become one, at most
MAX_LENGTH characters. Two browsers never share one: a name already taken (in any case) gets " 2", " 3"...
The list is `<runs>/nicknames.json` (core.base.shared_json): a restarted server still knows everyone, and every
server on the same runs folder shares it.
"""

from core.base.errors import StudioError
from core.base.shared_json import SharedJSON
from core.io import runs

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
    """Every browser's nickname (digest -> nickname), shared by every session and every server on the runs folder."""

    def __init__(self, runs_root=None):
        self._doc = SharedJSON(runs.runs_dir(runs_root) / FILE)

    def all(self) -> dict[str, str]:
        return {k: v for k, v in self._doc.read().items() if isinstance(k, str) and isinstance(v, str)}

    def get(self, who: str) -> str | None:
        return self.all().get(who)

    def set(self, who: str, text) -> str:
        """Give the browser `who` (a digest) the nickname `text`; returns it as kept (made unique)."""
        wanted = tidy(text)
        if self.get(who) == wanted:
            return wanted
        with self._doc.changing() as names:
            taken = {name.casefold() for owner, name in names.items() if owner != who and isinstance(name, str)}
            name, n = wanted, 1
            while name.casefold() in taken:
                n += 1
                suffix = f" {n}"
                name = wanted[: MAX_LENGTH - len(suffix)] + suffix
            names[who] = name
        return name
