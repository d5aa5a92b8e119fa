"""Writing a file so that a crash or a second writer leaves the old file or the new one, never half of one."""

import contextlib
import os
import secrets
from pathlib import Path

from core.base.errors import StudioError


class WriteError(StudioError, OSError):
    """A file could not be written; its one-line message names the cause and the file ("no space left on
    device while writing runs/x/last.pt."). It is also an OSError, so code that handles OSError still does."""

    def __str__(self) -> str:
        cause = (self.strerror or "cannot write").rstrip(".")
        return f"{cause[:1].lower()}{cause[1:]} while writing {self.filename}."


def write_atomic(path, data: bytes | str, durable: bool = True) -> None:
    """Write `data` to a uniquely named temporary file beside `path`, flush it to disk, then rename it over
    `path`. The folder must exist. Raises WriteError; the temporary file never stays behind. `durable=False`
    skips the flush to disk (still old-or-new to every reader and after a crash of the process, but the last
    change may be lost if the machine itself stops): for small files changed many times a second."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        raise WriteError(e.errno, e.strerror or str(e), str(path)) from None
    finally:
        with contextlib.suppress(OSError):  # the folder itself may be what failed
            tmp.unlink(missing_ok=True)
