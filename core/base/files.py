"""Writing a file so that a crash or a second writer leaves the old file or the new one, never half of one."""

import contextlib
import os
import secrets
from pathlib import Path


def write_atomic(path, data: bytes | str) -> None:
    """Write `data` to a uniquely named temporary file beside `path`, flush it to disk, then rename it over
    `path`. The folder must exist. Raises OSError; the temporary file never stays behind."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):  # the folder itself may be what failed
            tmp.unlink(missing_ok=True)
