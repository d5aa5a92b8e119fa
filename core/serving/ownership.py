"""Who may act on a training: the browser that started it (by a secret it keeps) or the teacher (by a key).

A browser's secret is random (`secrets.token_urlsafe`) and never derived from a job id; the browser keeps it
in a cookie, never in an address, and the server keeps only its SHA-256 digest, in memory and on disk. The
teacher's key comes from FMNIST_TEACHER_KEY and is compared in constant time; after a few wrong tries a
browser must wait longer and longer before the next. Neither is ever logged or shown.
"""

import hashlib
import hmac
import math
import os
import secrets
import threading
import time

from core.base.errors import StudioError

TEACHER_KEY_ENV = "FMNIST_TEACHER_KEY"
MIN_SECRET_LENGTH = 16


def new_secret() -> str:
    """A fresh owner secret for a browser (about 190 bits, URL-safe)."""
    return secrets.token_urlsafe(24)


def looks_like_secret(value) -> bool:
    """True for a string long and plain enough to be one of our secrets (URL-safe characters only)."""
    return (
        isinstance(value, str)
        and MIN_SECRET_LENGTH <= len(value) <= 128
        and all(c.isalnum() or c in "-_" for c in value)
    )


def browser_secret(cookie, from_old_link) -> str:
    """This browser's secret, from what it sent: its cookie and the address's old `?owner=` parameter.

    The cookie decides. A browser without one may take the secret of an old link that still carries it
    (`?owner=...`, from before secrets left the address), so its trainings stay its own; a link never
    replaces a cookie, so an address copied from another browser gives no one else's rights. Else a new one.
    """
    if looks_like_secret(cookie):
        return cookie
    if looks_like_secret(from_old_link):
        return from_old_link
    return new_secret()


def digest(secret: str) -> str:
    """What the server stores instead of the secret: a hex SHA-256 digest."""
    return hashlib.sha256(f"fmnist-owner:{secret}".encode()).hexdigest()


def teacher_key_set() -> bool:
    """Whether the server has a teacher key at all."""
    return bool(os.environ.get(TEACHER_KEY_ENV, ""))


def is_teacher_key(typed) -> bool:
    """True only if `typed` equals FMNIST_TEACHER_KEY (constant-time); always False when no key is set."""
    key = os.environ.get(TEACHER_KEY_ENV, "")
    if not key or not isinstance(typed, str) or not typed:
        return False
    return hmac.compare_digest(typed.encode(), key.encode())


FREE_TRIES = 5  # wrong teacher keys a browser may type before it has to wait
FIRST_WAIT_S = 30.0  # the wait after the 5th wrong key; it doubles with each further wrong one
LONGEST_WAIT_S = 3600.0


class KeyTries:
    """Wrong teacher keys per browser (by the digest of its secret). After FREE_TRIES wrong ones, every try is
    refused unchecked until a wait has passed: FIRST_WAIT_S, doubled with each further wrong key, at most
    LONGEST_WAIT_S. The right key clears the browser's count."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._wrong: dict[str, tuple[int, float]] = {}  # digest -> (wrong keys so far, refused until)

    def wait_left(self, browser: str) -> float:
        """Seconds before this browser may try again (0 if it may now)."""
        with self._lock:
            _, until = self._wrong.get(digest(browser), (0, 0.0))
            return max(0.0, until - self._clock())

    def check(self, browser: str, typed) -> bool:
        """Whether `typed` is the teacher key. Raises StudioError, checking nothing, while the browser must wait."""
        left = self.wait_left(browser)
        if left > 0:
            raise StudioError(f"too many wrong keys from this browser: try again in {math.ceil(left)} s.")
        right = is_teacher_key(typed)
        with self._lock:
            who = digest(browser)
            if right:
                self._wrong.pop(who, None)
            elif typed:
                count = self._wrong.get(who, (0, 0.0))[0] + 1
                self._wrong[who] = (count, self._clock() + _wait(count))
        return right


def _wait(wrong: int) -> float:
    """Seconds to wait after `wrong` wrong keys: none for the first few, then doubling, at most an hour."""
    if wrong < FREE_TRIES:
        return 0.0
    return min(FIRST_WAIT_S * 2 ** min(wrong - FREE_TRIES, 20), LONGEST_WAIT_S)


KEY_TRIES = KeyTries()  # the server's one record of wrong keys
