"""A training's scheduling priority: on a machine that also serves pages, the pages answer first.

FMNIST_TRAINING_NICE (0-19, default 10) is the niceness a training runs at: its Ray worker process, or its
thread where the server runs trainings in its own threads (FMNIST_TRAINING_EXECUTOR=thread). Linux keeps a
niceness per thread, and a thread starts with the niceness of the thread that starts it, so PyTorch's worker
threads (started by the training's thread on its first parallel operation) run at the training's niceness too.
Raising niceness needs no privilege; where it fails (another system, a thread that ended) nothing changes.
"""

import os
import threading

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


def lower_this_thread(nice: int) -> None:
    """The calling thread, and the threads it starts later, at niceness `nice` at least."""
    _lower(threading.get_native_id(), nice)


def _lower(tid: int, nice: int) -> None:
    if not hasattr(os, "setpriority"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, tid, max(nice, os.getpriority(os.PRIO_PROCESS, tid)))
    except OSError:
        pass
