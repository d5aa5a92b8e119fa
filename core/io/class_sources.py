"""A checkpoint's classes and where each came from.

`class_names` lists the classes in output order: Fashion-MNIST's ten first, then any class a student taught
(core.training.teach). `class_sources`, parallel to it, says where each came from: {"from": "Fashion-MNIST"},
or {"from": "examples", "examples": N, "trained_on": n, "held_out": h, "owner": digest or null, "taught_at": time,
"images": base64 of the N prepared 28x28 uint8 examples, the n fitted ones first, then the h held out}. The
examples travel inside the checkpoint: every evaluation of a taught model, anywhere, tests the new class on the
held-out ones it never learned from, and teaching it again keeps the class it already knows. A checkpoint
without these fields is a ten-class Fashion-MNIST model.
"""

import base64
import binascii

import numpy as np

from core.base.errors import CheckpointError
from core.data.classes import CLASS_NAMES, IMAGE_SIZE

FASHION = "Fashion-MNIST"
MAX_CLASSES = 20  # a header stays under 1 MB with 10 taught classes of 60 examples
MAX_NAME = 40
MAX_EXAMPLES = 60  # examples stored per taught class
PIXELS = IMAGE_SIZE * IMAGE_SIZE


def names(meta: dict) -> tuple[str, ...]:
    """The checkpoint's class names in output order (Fashion-MNIST's ten when it records none)."""
    found = meta.get("class_names")
    return tuple(found) if isinstance(found, list) and found else CLASS_NAMES


def sources(meta: dict) -> list[dict]:
    """Where each class came from, parallel to `names(meta)`."""
    found = meta.get("class_sources")
    count = len(names(meta))
    if isinstance(found, list) and len(found) == count:
        return found
    return [{"from": FASHION}] * count


def taught(meta: dict) -> list[int]:
    """The output indices of the classes a student taught (empty for a Fashion-MNIST model)."""
    return [i for i, s in enumerate(sources(meta)) if s.get("from") == "examples"]


def describe(source: dict) -> str:
    """One line on where a class came from."""
    if source.get("from") != "examples":
        return "Fashion-MNIST: 6,000 training photos"
    who = "one browser" if source.get("owner") else "the command line"
    return (
        f"{source.get('examples', '?')} examples from {who}: "
        f"{source.get('trained_on', '?')} taught, {source.get('held_out', '?')} held out"
    )


def encode_images(images: np.ndarray) -> str:
    """uint8 (N, 28, 28) images as base64 text for the metadata."""
    return base64.b64encode(np.ascontiguousarray(images, dtype=np.uint8).tobytes()).decode("ascii")


def decode_images(text: str) -> np.ndarray:
    """The uint8 (N, 28, 28) images `encode_images` wrote."""
    raw = base64.b64decode(text.encode("ascii"), validate=True)
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE).copy()


def held_out(meta: dict) -> tuple[np.ndarray, np.ndarray]:
    """Every taught class's held-out examples: uint8 images (H, 28, 28) and their class indices (H,)."""
    images, labels = [], []
    for index in taught(meta):
        source = sources(meta)[index]
        found = decode_images(source.get("images") or "")[source.get("trained_on", 0) :]
        images.append(found)
        labels.append(np.full(len(found), index, dtype=np.int64))
    if not images:
        return np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8), np.zeros(0, np.int64)
    return np.concatenate(images), np.concatenate(labels)


def check(meta: dict, file_name: str) -> None:
    """The class fields of a checkpoint's metadata are sound; else a one-line CheckpointError."""
    found, given = meta.get("class_names"), meta.get("class_sources")
    if found is None:
        if given is not None:
            _fail(file_name, "metadata field class_sources goes with class_names.")
        return
    if not (
        isinstance(found, list)
        and len(CLASS_NAMES) <= len(found) <= MAX_CLASSES
        and all(isinstance(n, str) and 0 < len(n.strip()) <= MAX_NAME and n.isprintable() for n in found)
    ):
        _fail(
            file_name,
            f"metadata field class_names must list {len(CLASS_NAMES)} to {MAX_CLASSES} class names "
            f"of at most {MAX_NAME} characters.",
        )
    if tuple(found[: len(CLASS_NAMES)]) != CLASS_NAMES:
        _fail(file_name, "metadata field class_names must start with the ten Fashion-MNIST classes.")
    if len({n.strip().lower() for n in found}) != len(found):
        _fail(file_name, "metadata field class_names names a class twice.")
    if given is None:
        if len(found) != len(CLASS_NAMES):
            _fail(file_name, "metadata field class_sources must say where each class came from.")
        return
    if not (isinstance(given, list) and len(given) == len(found) and all(isinstance(s, dict) for s in given)):
        _fail(file_name, "metadata field class_sources must hold one object per class.")
    for name, source in zip(found, given):
        if source.get("from") not in (FASHION, "examples"):
            _fail(file_name, f"class {name!r} comes from an unknown source.")
        if source.get("from") == "examples":
            _check_examples(source, name, file_name)


def _check_examples(source: dict, name: str, file_name: str) -> None:
    for key in ("examples", "trained_on", "held_out"):
        value = source.get(key)
        if not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_EXAMPLES):
            _fail(file_name, f"class {name!r}: {key} must be a whole number from 0 to {MAX_EXAMPLES}.")
    if source["trained_on"] + source["held_out"] != source["examples"]:
        _fail(file_name, f"class {name!r}: trained_on and held_out must add up to examples.")
    text = source.get("images", "")
    if not isinstance(text, str) or len(text) > 2 * MAX_EXAMPLES * PIXELS:
        _fail(file_name, f"class {name!r}: images must be a short base64 text.")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        _fail(file_name, f"class {name!r}: images is not base64.")
    if len(raw) != source["examples"] * PIXELS:
        _fail(file_name, f"class {name!r}: images does not hold {source['examples']} 28x28 pictures.")
    owner = source.get("owner")
    if owner is not None and not (isinstance(owner, str) and len(owner) <= 128):
        _fail(file_name, f"class {name!r}: owner must be a short text.")


def _fail(file_name: str, reason: str):
    raise CheckpointError(f"{file_name}: {reason}")
