"""What a sound studio checkpoint is, checked before any model is built or any weight is loaded.

Every entry point reads checkpoints through here: the command lines, the pages and the import. A checkpoint
is a safetensors file (an 8-byte little-endian header length, a JSON header, then the tensors' bytes back to
back). Every claim in it is checked against the file and against the model the studio would build: the
size, the header, the studio metadata (types, finite numbers), the architecture and its settings (within the
ranges the Train form allows), and each tensor's name, shape and dtype. Only then are the weights read (by
safetensors, which never unpickles) and checked for NaN and infinity. Nothing in a file is ever executed, and
no memory is taken beyond a small multiple of the file's size. Each problem is a one-line CheckpointError
that starts with the file's name.
"""

import json
import math
import struct
from dataclasses import dataclass

import torch

from core.base.errors import CheckpointError, StudioError
from core.io import class_sources
from core.models import build, get, with_outputs

FORMAT = "fashion-mnist-studio/1"
MAX_HEADER = 1024 * 1024  # a studio header is a few kB
DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
WEIGHT_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
COUNTER_DTYPES = {torch.int64: "I64"}  # batch norm's num_batches_tracked
PICKLE = (
    "this is a PyTorch pickle (torch.save), not safetensors; the studio never loads pickles because they can "
    "run code. Save it with safetensors (the studio's own checkpoints are)."
)

MAX_HIDDEN_LAYERS = 16  # the records bound each hidden size (their cap), not how many there are
MAX_TEXT = 10_000  # characters of a text field in the metadata (a name, a command)
WEIGHT_NAMES = ("float32", "float16", "bfloat16")


@dataclass
class Header:
    """What the header says, checked: the studio metadata, the architecture's settings and the tensor table."""

    meta: dict
    settings: dict
    entries: dict  # name -> (dtype, shape, begin, end)
    length: int  # bytes of the JSON header


@dataclass
class Checked:
    """A checkpoint that passed every check: its metadata, settings and weights (CPU tensors)."""

    meta: dict
    settings: dict
    tensors: dict


def is_pickle(data: bytes) -> bool:
    """torch.save writes a zip archive (PK..) holding a pickle; older files are a bare pickle (0x80, protocol)."""
    return data[:4] == b"PK\x03\x04" or (len(data) > 1 and data[0] == 0x80 and 2 <= data[1] <= 5)


def header_length(first: bytes, size: int, name: str) -> int:
    """The JSON header's length from the file's first 8 bytes (`size` is the whole file's)."""
    if is_pickle(first):
        _fail(name, PICKLE)
    if size < 8 or len(first) < 8:
        _fail(name, f"truncated: {size} bytes is too short for a safetensors file.")
    (length,) = struct.unpack("<Q", first[:8])
    if length > MAX_HEADER or length < 2:
        _fail(name, "not a safetensors file (its first 8 bytes are not a sensible header length).")
    if 8 + length > size:
        _fail(
            name, f"truncated: the file ends inside its header ({size:,} bytes, the header alone needs {8 + length:,})."
        )
    return length


def header(raw: bytes, size: int, name: str) -> Header:
    """Check the JSON header `raw` of a file of `size` bytes: tensor table, sizes, metadata and settings."""
    parsed = _json(raw, name, "not a safetensors file (its header is not JSON).")
    if not isinstance(parsed, dict):
        _fail(name, "not a safetensors file (its header is not a JSON object).")
    entries = _entries(parsed, name)
    body = size - 8 - len(raw)
    end = _check_offsets(entries, body, name)
    if end > body:
        _fail(name, f"truncated: the tensors need {end:,} bytes after the header but the file has {body:,}.")
    meta = metadata(parsed, name)
    return Header(meta, settings(meta, name), entries, len(raw))


def validate(data: bytes, name: str) -> Checked:
    """Every check on a whole file's bytes, then the weights read and checked; raises CheckpointError."""
    length = header_length(data[:8], len(data), name)
    found = header(data[8 : 8 + length], len(data), name)
    expected = expected_tensors(found.meta["arch"], found.settings, name, len(class_sources.names(found.meta)))
    _check_table({k: (v[0], v[1]) for k, v in found.entries.items()}, expected, found.meta["arch"], name)
    try:
        from safetensors.torch import load

        tensors = load(bytes(data))
    except Exception as e:  # a parser's refusal, whatever it is called: one line
        _fail(name, f"the weights cannot be read ({_first_line(e)}).")
    table = {k: (_safetensors_dtype(v.dtype), tuple(v.shape)) for k, v in tensors.items()}
    _check_table(table, expected, found.meta["arch"], name)  # what was read is what was checked
    bad = next((k for k, v in tensors.items() if v.is_floating_point() and not torch.isfinite(v).all()), None)
    if bad:
        _fail(name, f"the weights contain NaN or infinity ({bad}).")
    return Checked(found.meta, found.settings, tensors)


# ---- the header ------------------------------------------------------------------------------------------


def _entries(parsed: dict, name: str) -> dict:
    """name -> (dtype, shape, begin, end), each checked for type."""
    out = {}
    for key, info in parsed.items():
        if key == "__metadata__":
            continue
        shown = _label(key)
        if not isinstance(info, dict):
            _fail(name, f"the header entry for {shown} is not an object.")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:
            _fail(name, f"{shown} has an unknown dtype {_short(dtype)}.")
        if not (isinstance(shape, list) and len(shape) <= 8 and all(_whole(d) and d >= 0 for d in shape)):
            _fail(name, f"{shown} has an invalid shape {_short(shape)}.")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_whole(o) and o >= 0 for o in offsets)):
            _fail(name, f"{shown} has invalid data offsets {_short(offsets)}.")
        out[key] = (dtype, tuple(shape), offsets[0], offsets[1])
    return out


def _check_offsets(entries: dict, body: int, name: str) -> int:
    """Each tensor's byte range matches its shape and dtype, ranges follow each other without gaps or overlaps
    from 0, and nothing follows the last one. Returns where the last tensor ends."""
    position = 0
    for key, (dtype, shape, begin, end) in sorted(entries.items(), key=lambda item: item[1][2:]):
        expected = math.prod(shape) * DTYPE_BYTES[dtype]
        if end - begin != expected:
            _fail(
                name,
                f"the header lies about its sizes: {_label(key)} is {dtype} {list(shape)} ({expected:,} bytes) but "
                f"its offsets span {end - begin:,} bytes.",
            )
        if begin != position:
            _fail(
                name,
                f"the header lies about its sizes: {_label(key)} starts at byte {begin:,}, expected {position:,} "
                "(tensors must follow each other).",
            )
        position = end
    if position < body:
        _fail(
            name,
            f"the header lies about its sizes: it describes {position:,} bytes of tensors but the file holds {body:,}.",
        )
    return position


# ---- the studio metadata ---------------------------------------------------------------------------------


def metadata(parsed: dict, name: str) -> dict:
    """The studio metadata of a parsed header, every field the studio reads checked for type."""
    raw = parsed.get("__metadata__")
    raw = raw.get("studio") if isinstance(raw, dict) else None
    if not isinstance(raw, str):
        _fail(name, "a safetensors file but not a Fashion-MNIST Studio checkpoint (no studio metadata).")
    meta = _json(raw.encode(), name, "the studio metadata is corrupt (not JSON).")
    if not isinstance(meta, dict):
        _fail(name, "the studio metadata is corrupt (not a JSON object).")
    if meta.get("format") != FORMAT:
        _fail(name, f"unknown checkpoint format {_short(meta.get('format'))}.")
    arch = meta.get("arch")
    if not isinstance(arch, str):
        _fail(name, f"the architecture must be a name, got {_short(arch)}.")
    try:
        get(arch)
    except StudioError as e:
        _fail(name, _first_line(e))
    for key in ("name", "run_id", "created_at", "device", "command"):
        if meta.get(key) is not None and not (isinstance(meta[key], str) and len(meta[key]) <= MAX_TEXT):
            _fail(name, f"metadata field {key} must be a text of at most {MAX_TEXT:,} characters.")
    if meta.get("dtype") is not None and meta["dtype"] not in WEIGHT_NAMES:
        _fail(name, f"metadata field dtype must be one of {', '.join(WEIGHT_NAMES)}, got {_short(meta['dtype'])}.")
    for key in ("arch_settings", "config", "metrics", "versions", "normalization"):
        if meta.get(key) is not None and not isinstance(meta[key], dict):
            _fail(name, f"metadata field {key} must be an object, got {_short(meta[key])}.")
    for key, value in (meta.get("metrics") or {}).items():
        if value is not None and not _finite(value):
            _fail(name, f"metric {_short(key)} must be a finite number, got {_short(value)}.")
    for key, value in (meta.get("normalization") or {}).items():
        if not _finite(value):
            _fail(name, f"normalization {_short(key)} must be a finite number, got {_short(value)}.")
    for key, value in (meta.get("versions") or {}).items():
        if value is not None and not (isinstance(value, str) and len(value) <= 100):
            _fail(name, f"version of {_short(key)} must be a short text, got {_short(value)}.")
    for key in ("training_seconds", "epochs_run"):
        if meta.get(key) is not None and not (_finite(meta[key]) and meta[key] >= 0):
            _fail(name, f"metadata field {key} must be a finite number >= 0, got {_short(meta[key])}.")
    class_sources.check(meta, name)  # 10 names, or more for a taught model, and where each came from
    return meta


def settings(meta: dict, name: str) -> dict:
    """The architecture's settings from the metadata, checked by the architecture's records (kind, range) and
    within the Train form's largest values, before any model is built."""
    arch = get(meta["arch"])
    given = meta.get("arch_settings") or {}
    try:
        checked = arch.settings({k: tuple(v) if isinstance(v, list) else v for k, v in given.items()})
    except (StudioError, TypeError, ValueError, OverflowError) as e:
        _fail(name, f"invalid settings: {_first_line(e)}")
    for record in arch.schema:
        problem = _beyond_the_form(arch.name, record, checked[record.name])
        if problem:
            _fail(name, f"invalid settings: {arch.name}: {problem}")
    return checked


def _beyond_the_form(arch: str, record, value) -> str | None:
    """Why a checked setting is larger than anything the Train form builds, beyond what its record bounds."""
    if record.kind == "sizes" and len(value) > MAX_HIDDEN_LAYERS:
        return f"{record.noun} must be at most {MAX_HIDDEN_LAYERS} layers, got {len(value)}."
    return None


# ---- the tensors -----------------------------------------------------------------------------------------


def expected_tensors(arch: str, checked: dict, name: str, classes: int = 10) -> dict:
    """name -> (shape, dtype) of the model these settings build for `classes` outputs, built on the meta device
    (no memory)."""
    try:
        with torch.device("meta"):
            model = with_outputs(build(arch, checked), classes)
    except (StudioError, TypeError, ValueError, RuntimeError, OverflowError) as e:
        _fail(name, f"invalid settings: {_first_line(e)}")
    return {k: (tuple(v.shape), v.dtype) for k, v in model.state_dict().items()}


def _check_table(table: dict, expected: dict, arch: str, name: str) -> None:
    """`table` (name -> (safetensors dtype, shape)) holds exactly the model's tensors, with their shapes and a
    weight dtype (float32, float16 or bfloat16) for every floating-point one."""
    missing = [k for k in expected if k not in table]
    unexpected = [k for k in table if k not in expected]
    if missing:
        _fail(name, f"weights do not match {arch}: {missing[0]} is missing.")
    if unexpected:
        _fail(name, f"weights do not match {arch}: unexpected tensor {_label(unexpected[0])}.")
    for key, (shape, dtype) in expected.items():
        found_dtype, found_shape = table[key]
        if tuple(found_shape) != shape:
            _fail(name, f"weights do not match {arch}: {key} is {list(found_shape)}, expected {list(shape)}.")
        if dtype.is_floating_point:
            if found_dtype not in WEIGHT_DTYPES:
                _fail(name, f"weights do not match {arch}: {key} is {found_dtype}; weights must be F32, F16 or BF16.")
        elif found_dtype != COUNTER_DTYPES.get(dtype):
            _fail(name, f"weights do not match {arch}: {key} is {found_dtype}, expected {COUNTER_DTYPES.get(dtype)}.")


def _safetensors_dtype(dtype: torch.dtype) -> str:
    names = {v: k for k, v in WEIGHT_DTYPES.items()} | COUNTER_DTYPES
    return names.get(dtype, str(dtype).removeprefix("torch."))


# ---- small helpers ---------------------------------------------------------------------------------------


def _json(raw: bytes, name: str, message: str):
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # ValueError: bad JSON or a 5,000-digit number
        _fail(name, message)


def _finite(x) -> bool:
    """A JSON number that is not NaN or infinite (a whole number of any length is finite)."""
    if isinstance(x, bool):
        return False
    return isinstance(x, int) or (isinstance(x, float) and math.isfinite(x))


def _whole(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _short(value, limit: int = 40) -> str:
    """A value as it can appear in a one-line message: repr, one line, at most `limit` characters."""
    try:
        text = repr(value)
    except ValueError:  # an int too long to print
        text = f"<{type(value).__name__}>"
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _label(name: str, limit: int = 80) -> str:
    """A tensor's name as it can appear in a one-line message."""
    text = name if name.isprintable() else repr(name)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _first_line(e: Exception) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:200]


def _fail(name: str, reason: str):
    raise CheckpointError(f"{name}: {reason}")
