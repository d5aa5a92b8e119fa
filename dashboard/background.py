"""Slow page work (filter top images, t-SNE, UMAP) in background threads shared by every session.

A page asks for a result by key; the first request starts it in a worker thread, later requests (from any
session) see the same task. Workers call only core code and write plain Python fields; pages read them from
a `st.fragment(run_every=...)` and rerun once the task is done (the result then comes from core's cache).
"""

import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from core.base.errors import StudioError

WORKERS = 1  # one slow job at a time on the server; others wait their turn
KEEP = 64  # finished tasks remembered (their results live in core's caches)


@dataclass
class Task:
    key: tuple
    fraction: float = 0.0
    message: str = "waiting for its turn"
    done: bool = False
    error: str | None = None
    result: Any = None
    started: float = field(default_factory=time.monotonic)

    def progress(self, fraction: float, message: str | None = None) -> None:
        self.fraction = max(0.0, min(1.0, float(fraction)))
        if message:
            self.message = message


class Runner:
    def __init__(self, workers: int = WORKERS):
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="studio-slow")
        self._tasks: dict[tuple, Task] = {}
        self._lock = threading.Lock()

    def submit(self, key: tuple, work: Callable[[Task], Any]) -> Task:
        """The task for `key`, started if no task has it yet (a failed one stays failed until `forget`)."""
        with self._lock:
            task = self._tasks.get(key)
            if task is not None:
                return task
            task = self._tasks[key] = Task(key)
            self._forget_old()
        self._pool.submit(self._run, task, work)
        return task

    def _run(self, task: Task, work) -> None:
        task.message = "starting"
        try:
            task.result = work(task)
        except StudioError as e:
            task.error = str(e)
        except Exception as e:  # a page shows one line, the server log keeps the trace
            traceback.print_exc()
            task.error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'failed'}"
        task.fraction, task.done = 1.0, True

    def forget(self, key: tuple) -> None:
        with self._lock:
            self._tasks.pop(key, None)

    def _forget_old(self) -> None:
        finished = [k for k, t in self._tasks.items() if t.done]
        for k in finished[: max(0, len(self._tasks) - KEEP)]:
            del self._tasks[k]


@st.cache_resource
def runner() -> Runner:
    return Runner()


def wait(task: Task, label: str) -> None:
    """A progress bar that follows `task` and reruns the page when it is done; a failure is one line and a
    button to try again."""
    if task.error is not None:
        st.error(f"{label} failed: {task.error}")
        st.button("Try again", key=f"retry_{hash(task.key)}", on_click=runner().forget, args=(task.key,))
        return

    @st.fragment(run_every=1.0)
    def poll():
        if task.done:
            st.rerun(scope="app")
        seconds = int(time.monotonic() - task.started)
        st.progress(task.fraction, text=f"{label}: {task.message} ({task.fraction:.0%}, {seconds} s)")

    poll()
