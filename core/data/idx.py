"""Read and validate idx files (the format Fashion-MNIST ships in), gzipped or not."""

import gzip
import struct
from pathlib import Path

import numpy as np
import torch

from core.base.errors import StudioError

IMAGES_MAGIC = 0x00000803  # unsigned byte, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned byte, 1 dimension


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise StudioError(f"{path}: cannot read ({e}).") from None


def read_images(path) -> torch.Tensor:
    """Return a uint8 tensor (N, 28, 28) from an idx3 file."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 16:
        raise StudioError(f"{path}: truncated: {len(raw)} bytes, shorter than the 16-byte idx header.")
    magic, n, rows, cols = struct.unpack(">IIII", raw[:16])
    if magic != IMAGES_MAGIC:
        raise StudioError(f"{path}: wrong magic number 0x{magic:08x}, expected 0x{IMAGES_MAGIC:08x} for images.")
    if (rows, cols) != (28, 28):
        raise StudioError(f"{path}: images are {rows}x{cols}, expected 28x28.")
    expected = 16 + n * rows * cols
    if len(raw) != expected:
        raise StudioError(f"{path}: truncated or padded: {len(raw)} bytes, header promises {expected} for {n} images.")
    data = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, rows, cols)
    return torch.from_numpy(data.copy())


def read_labels(path) -> torch.Tensor:
    """Return an int64 tensor (N,) of labels 0-9 from an idx1 file."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 8:
        raise StudioError(f"{path}: truncated: {len(raw)} bytes, shorter than the 8-byte idx header.")
    magic, n = struct.unpack(">II", raw[:8])
    if magic != LABELS_MAGIC:
        raise StudioError(f"{path}: wrong magic number 0x{magic:08x}, expected 0x{LABELS_MAGIC:08x} for labels.")
    if len(raw) != 8 + n:
        raise StudioError(f"{path}: truncated or padded: {len(raw)} bytes, header promises {8 + n} for {n} labels.")
    labels = np.frombuffer(raw, dtype=np.uint8, offset=8)
    if n and labels.max() > 9:
        raise StudioError(f"{path}: label {int(labels.max())} out of range 0-9.")
    return torch.from_numpy(labels.astype(np.int64))


def write_idx(path, array: np.ndarray) -> None:
    """Write a uint8 array as an idx file (gzipped when the name ends in .gz); used by tests and tools."""
    path = Path(path)
    array = np.ascontiguousarray(array, dtype=np.uint8)
    magic = IMAGES_MAGIC if array.ndim == 3 else LABELS_MAGIC
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    payload = header + array.tobytes()
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)
