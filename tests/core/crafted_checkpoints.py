"""Tiny hostile checkpoints, made in the tests: a sound one edited in its header, metadata or tensors, each with
the one line every reader must answer it with."""

import io
import json
import pickle
import struct
import tempfile
from pathlib import Path

import torch
from safetensors.torch import save as save_tensors

from core.io import checkpoint
from core.models import build

PICKLE = (
    "this is a PyTorch pickle (torch.save), not safetensors; the studio never loads pickles because they can "
    "run code. Save it with safetensors (the studio's own checkpoints are)."
)


def sound(arch: str = "simple_cnn", settings: dict | None = None, model=None) -> bytes:
    """A real studio checkpoint's bytes (saved by checkpoint.save, read back)."""
    torch.manual_seed(0)
    settings = settings or {}
    model = model if model is not None else build(arch, settings)
    with tempfile.TemporaryDirectory() as folder:
        return checkpoint.save(Path(folder) / "m.safetensors", model, arch, settings, {"name": "crafted"}).read_bytes()


def split(data: bytes) -> tuple[dict, bytes]:
    """The JSON header (parsed) and the tensor bytes of a safetensors file."""
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def join(header: dict, body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def with_metadata(data: bytes, change) -> bytes:
    """The same file with its studio metadata replaced by change(metadata) (a dict, or any JSON value)."""
    header, body = split(data)
    meta = json.loads(header["__metadata__"]["studio"])
    header["__metadata__"]["studio"] = json.dumps(change(meta))
    return join(header, body)


def with_settings(data: bytes, **settings) -> bytes:
    return with_metadata(data, lambda m: {**m, "arch_settings": {**m["arch_settings"], **settings}})


def _nan_model():
    model = build("simple_cnn")
    with torch.no_grad():
        model.conv1[0].bias[2] = float("nan")
    return model


def _int8(data: bytes) -> bytes:
    """conv1.0.weight stored as int8 (same shape), the rest untouched."""
    from safetensors.torch import load

    tensors = load(data)
    header, _ = split(data)
    tensors["conv1.0.weight"] = torch.zeros_like(tensors["conv1.0.weight"], dtype=torch.int8)
    return save_tensors(tensors, metadata=header["__metadata__"])


def _torch_pickle() -> bytes:
    buffer = io.BytesIO()
    torch.save(build("simple_cnn").state_dict(), buffer)
    return buffer.getvalue()


def cases() -> dict[str, tuple[bytes, str]]:
    """name -> (file bytes, the reason every reader gives after "<file name>: ")."""
    cnn = sound()
    mlp = sound("mlp", {"hidden": (32,)})
    resnet = sound("resnet18", {"width": 0.125})
    return {
        "architecture as a list": (
            with_metadata(cnn, lambda m: {**m, "arch": ["simple_cnn"]}),
            "the architecture must be a name, got ['simple_cnn'].",
        ),
        "dropout as a string": (
            with_settings(cnn, dropout="0.5"),
            "invalid settings: simple_cnn: dropout must be in [0, 1), got '0.5'.",
        ),
        "settings not an object": (
            with_metadata(cnn, lambda m: {**m, "arch_settings": [1, 2]}),
            "metadata field arch_settings must be an object, got [1, 2].",
        ),
        "metadata a JSON list": (
            with_metadata(cnn, lambda m: [m]),
            "the studio metadata is corrupt (not a JSON object).",
        ),
        "infinite width": (
            with_settings(cnn, width=float("inf")),
            "invalid settings: simple_cnn: width must be a whole number (1, 2, 4, ...), got inf.",
        ),
        "width 1e6": (
            with_settings(cnn, width=1e6),
            "invalid settings: simple_cnn: width 1000000.0 is too large (at most 8).",
        ),
        "hidden size 1e9": (
            with_settings(mlp, hidden=[1_000_000_000]),
            "invalid settings: mlp: hidden sizes [1000000000] is too large (at most 4096 each).",
        ),
        "infinite resnet width": (
            with_settings(resnet, width=float("inf")),
            "invalid settings: resnet18: width must be a positive number, got inf.",
        ),
        "infinite hidden size": (
            with_settings(mlp, hidden=[float("inf")]),
            "invalid settings: mlp: hidden sizes must be positive whole numbers, got [inf].",
        ),
        "NaN weights": (sound(model=_nan_model()), "the weights contain NaN or infinity (conv1.0.bias)."),
        "int8 weights": (
            _int8(cnn),
            "weights do not match simple_cnn: conv1.0.weight is I8; weights must be F32, F16 or BF16.",
        ),
        "torch.save pickle": (_torch_pickle(), PICKLE),
        "bare pickle": (pickle.dumps({"weights": [1, 2, 3]}), PICKLE),
    }
