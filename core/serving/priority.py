"""A training's scheduling priority: on a machine that also serves pages, the pages answer first.

FMNIST_TRAINING_NICE (0-19, default 10) is the niceness of a training's Ray worker process. Linux keeps a
niceness per thread, and a thread starts with the niceness of the thread that starts it. Raising niceness needs
no privilege; where it fails (another system, a thread that ended) nothing changes.

A training in a thread of the page server (FMNIST_TRAINING_EXECUTOR=thread) keeps the server's priority: it
shares the interpreter lock with the pages, and a low-priority thread that holds the lock while the machine is
busy keeps the pages waiting for it (tried: with such a thread at niceness 19, a page that draws in 7 s had not
drawn after 240 s while other processes kept both cores busy).
"""

import os

from core.base.errors import StudioError

NICE_ENV = "FMNIST_TRAINING_NICE"
DEFAULT_NICE = 10


def training_nice() -> int:
    """FMNIST_TRAINING_NICE, checked: a whole number from 0 to 19 (default 10)."""
    raw = os.environ.get(NICE_ENV, "").strip()
    if not raw:
        return DEFAULT_NICE
    if not raw.isdigit() or int(raw) > 19:
        raise StudioError(f"{NICE_ENV} must be a whole number from 0 to 19, got {raw!r}.")
    return int(raw)


def lower_process(nice: int) -> None:
    """Every thread of this process, and those it starts later, at niceness `nice` at least."""
    tasks = f"/proc/{os.getpid()}/task"
    for tid in [int(t) for t in os.listdir(tasks)] if os.path.isdir(tasks) else [0]:
        _lower(tid, nice)


def _lower(tid: int, nice: int) -> None:
    if not hasattr(os, "setpriority"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, tid, max(nice, os.getpriority(os.PRIO_PROCESS, tid)))
    except OSError:
        pass
