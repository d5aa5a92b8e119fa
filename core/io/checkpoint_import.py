"""Validate a checkpoint someone uploads before it is kept: the same checks as every other read
(core.io.checkpoint_check), under the import's own size limit. Nothing in the file is ever executed."""

from core.base.errors import CheckpointError
from core.io import checkpoint_check

MAX_BYTES = 100 * 1024 * 1024


def validate(data: bytes, filename: str = "checkpoint.safetensors") -> dict:
    """The checkpoint's studio metadata if `data` is a sound studio checkpoint; else a CheckpointError."""
    name = filename or "checkpoint.safetensors"
    if len(data) > MAX_BYTES:
        raise CheckpointError(
            f"{name}: the file is {len(data) / 1024 / 1024:.0f} MB; the limit for an imported checkpoint is 100 MB."
        )
    return checkpoint_check.validate(data, name).meta
