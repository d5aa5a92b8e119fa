"""Who may act on a training: the browser that started it (by a secret it keeps) or the teacher (by a key).

A browser's secret is random (`secrets.token_urlsafe`) and never derived from a job id; the server keeps
only its SHA-256 digest, in memory and on disk. The teacher's key comes from FMNIST_TEACHER_KEY and is
compared in constant time; neither is ever logged or shown.
"""

import hashlib
import hmac
import os
import secrets

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
