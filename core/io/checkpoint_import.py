"""Validate a checkpoint someone uploads before it is kept: nothing in the file is ever executed.

The bytes are read as the safetensors format describes them (an 8-byte little-endian header length, a JSON
header, then the tensors' bytes back to back), and every claim is checked against the file and against the
model the studio would build: size, header, studio metadata, known architecture, valid settings, and each
tensor's name, shape and dtype. Only then are the weights read (by safetensors, which never unpickles) and
checked for NaN. Each problem is a CheckpointError with its own one-line message.
"""

import json
import math
import struct

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors

from core.base.errors import CheckpointError, StudioError
from core.io.checkpoint import FORMAT
from core.models import build, get

MAX_BYTES = 100 * 1024 * 1024
MAX_HEADER = 1024 * 1024  # a studio header is a few kB
DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
FLOAT_DTYPES = {"F32", "F16", "BF16"}
TORCH_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}


def validate(data: bytes, filename: str = "checkpoint.safetensors") -> dict:
    """The checkpoint's studio metadata if `data` is a sound studio checkpoint; else a CheckpointError."""
    name = filename or "checkpoint.safetensors"

    def fail(reason: str):
        raise CheckpointError(f"{name}: {reason}")

    size = len(data)
    if size > MAX_BYTES:
        fail(f"the file is {size / 1024 / 1024:.0f} MB; the limit for an imported checkpoint is 100 MB.")
    if _is_pickle(data):
        fail(
            "this is a PyTorch pickle (torch.save), not safetensors; the studio never loads pickles "
            "because they can run code. Save it with safetensors (the studio's own checkpoints are)."
        )
    if size < 8:
        fail(f"truncated: {size} bytes is too short for a safetensors file.")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > MAX_HEADER or header_len < 2:
        fail("not a safetensors file (its first 8 bytes are not a sensible header length).")
    if 8 + header_len > size:
        fail(f"truncated: the file ends inside its header ({size:,} bytes, the header alone needs {8 + header_len:,}).")
    header = _header(data[8 : 8 + header_len], fail)
    entries = _entries(header, fail)
    body = size - 8 - header_len
    end = _check_offsets(entries, body, fail)
    if end > body:
        fail(f"truncated: the tensors need {end:,} bytes after the header but the file has {body:,}.")
    meta = _studio_metadata(header, fail)
    model = _model(meta, fail)
    _check_tensors(entries, model.state_dict(), meta["arch"], fail)
    try:
        tensors = load_tensors(data)
    except (SafetensorError, ValueError) as e:
        fail(f"the weights cannot be read ({str(e).splitlines()[0][:120]}).")
    bad = next((k for k, v in tensors.items() if v.is_floating_point() and not torch.isfinite(v).all()), None)
    if bad:
        fail(f"the weights contain NaN or infinity ({bad}).")
    return meta


def _is_pickle(data: bytes) -> bool:
    """torch.save writes a zip archive (PK..) holding a pickle; older files are a bare pickle (0x80, protocol)."""
    return data[:4] == b"PK\x03\x04" or (len(data) > 1 and data[0] == 0x80 and 2 <= data[1] <= 5)


def _header(raw: bytes, fail) -> dict:
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        fail("not a safetensors file (its header is not JSON).")
    if not isinstance(header, dict):
        fail("not a safetensors file (its header is not a JSON object).")
    return header


def _entries(header: dict, fail) -> dict:
    """name -> (dtype, shape, begin, end), each checked for type."""
    out = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        if not isinstance(info, dict):
            fail(f"the header entry for {key} is not an object.")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dtype not in DTYPE_BYTES:
            fail(f"{key} has an unknown dtype {dtype!r}.")
        if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
            fail(f"{key} has an invalid shape {shape!r}.")
        if not (
            isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) and o >= 0 for o in offsets)
        ):
            fail(f"{key} has invalid data offsets {offsets!r}.")
        out[key] = (dtype, tuple(shape), offsets[0], offsets[1])
    return out


def _check_offsets(entries: dict, body: int, fail) -> int:
    """Each tensor's byte range matches its shape and dtype, ranges follow each other without gaps or
    overlaps from 0, and nothing follows the last one. Returns where the last tensor ends."""
    position = 0
    for key, (dtype, shape, begin, end) in sorted(entries.items(), key=lambda item: item[1][2:]):
        expected = math.prod(shape) * DTYPE_BYTES[dtype]
        if end - begin != expected:
            fail(
                f"the header lies about its sizes: {key} is {dtype} {list(shape)} ({expected:,} bytes) but its "
                f"offsets span {end - begin:,} bytes."
            )
        if begin != position:
            fail(
                f"the header lies about its sizes: {key} starts at byte {begin:,}, expected {position:,} "
                f"(tensors must follow each other)."
            )
        position = end
    if position < body:
        fail(
            f"the header lies about its sizes: it describes {position:,} bytes of tensors but the file holds {body:,}."
        )
    return position


def _studio_metadata(header: dict, fail) -> dict:
    raw = (header.get("__metadata__") or {}).get("studio")
    if not isinstance(raw, str):
        fail("a safetensors file but not a Fashion-MNIST Studio checkpoint (no studio metadata).")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError:
        fail("the studio metadata is corrupt (not JSON).")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or not isinstance(meta.get("arch"), str):
        fail(f"unknown checkpoint format {meta.get('format') if isinstance(meta, dict) else None!r}.")
    return meta


def _model(meta: dict, fail):
    try:
        arch = get(meta["arch"])
    except StudioError as e:
        fail(str(e))
    settings = meta.get("arch_settings", {})
    if not isinstance(settings, dict):
        fail("invalid settings: arch_settings is not an object.")
    try:
        checked = arch.settings({k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()})
        with torch.device("meta"):  # shapes and dtypes only: hostile settings cannot allocate memory
            return build(arch.name, checked)
    except (StudioError, TypeError, ValueError, RuntimeError) as e:
        fail(f"invalid settings: {str(e).splitlines()[0] if str(e) else type(e).__name__}")


def _check_tensors(entries: dict, expected: dict, arch: str, fail) -> None:
    missing = sorted(set(expected) - set(entries))
    unexpected = sorted(set(entries) - set(expected))
    if missing:
        fail(f"weights do not match {arch}: {missing[0]} is missing.")
    if unexpected:
        fail(f"weights do not match {arch}: unexpected tensor {unexpected[0]}.")
    for key, value in expected.items():
        dtype, shape = entries[key][:2]
        if shape != tuple(value.shape):
            fail(f"weights do not match {arch}: {key} is {list(shape)}, expected {list(value.shape)}.")
        want = TORCH_DTYPES.get(value.dtype)
        ok = dtype in FLOAT_DTYPES if value.is_floating_point() else dtype == want
        if not ok:
            fail(f"weights do not match {arch}: {key} is {dtype}, expected {want}.")
