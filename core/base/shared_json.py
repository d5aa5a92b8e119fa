"""A small JSON document in one file, shared by the threads of a server and by every server process on the same
folder: a reader gets the latest version (read again only when the file was replaced), and a change is read,
made and written under an exclusive lock (`flock` on a lock file beside it), atomically (core.base.files), so two
writers never lose each other's change and a reader never sees half of one."""

import contextlib
import copy
import fcntl
import json
import logging
import os
import threading
from pathlib import Path

from core.base.errors import StudioError
from core.base.files import write_atomic

log = logging.getLogger(__name__)


class SharedJSON:
    def __init__(self, path, default=None):
        self.path = Path(path)
        self._default = default if default is not None else {}
        self._lock = threading.RLock()
        self._stamp = None
        self._data = copy.deepcopy(self._default)

    def read(self):
        """The latest document (a copy this process keeps: read it, do not change it)."""
        with self._lock:
            stamp = self._file_stamp()
            if stamp != self._stamp:
                self._data, self._stamp = self._load(), stamp
            return self._data

    @contextlib.contextmanager
    def changing(self, durable: bool = True):
        """`with doc.changing() as data:` change `data` (a fresh copy of the latest document); it is written when
        the block ends without an exception (`durable=False`: without waiting for the disk, see write_atomic).
        Raises StudioError (one line) when the file cannot be written."""
        with self._lock, self._file_lock():
            data = copy.deepcopy(self.read())
            yield data
            try:
                write_atomic(self.path, json.dumps(data, ensure_ascii=False), durable=durable)
            except OSError as e:
                raise e if isinstance(e, StudioError) else StudioError(f"cannot write {self.path}: {e}.") from None
            self._data, self._stamp = data, self._file_stamp()

    def _file_stamp(self):
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size  # an atomic write is a new file: a new inode

    def _load(self):
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return copy.deepcopy(self._default)
        except (OSError, ValueError) as e:
            log.warning("cannot read %s (%s): starting from an empty one", self.path, e)
            return copy.deepcopy(self._default)
        if not isinstance(data, type(self._default)):
            log.warning(
                "%s holds a %s, not a %s: starting from an empty one",
                self.path,
                type(data).__name__,
                type(self._default).__name__,
            )
            return copy.deepcopy(self._default)
        return data

    @contextlib.contextmanager
    def _file_lock(self):
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path.with_name(self.path.name + ".lock"), "a")
        except OSError as e:
            raise StudioError(f"cannot write in {self.path.parent}: {e.strerror or e}.") from None
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
