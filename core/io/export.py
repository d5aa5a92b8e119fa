"""Export a checkpoint to ONNX or TorchScript, ready for any runtime.

The exported model takes float32 pixels (N, 1, 28, 28) in [0, 1], a light garment on black (what
`core.io.preprocess` produces), for any batch size N, and returns one logit per class (10, or more for a model
taught extra classes). The normalisation is
inside the graph; batch norm and dropout are in evaluation mode; half-precision checkpoints are exported
in float32. Class names, architecture and test accuracy travel in the ONNX metadata_props and in the
TorchScript extra files. Exports of a checkpoint are cached on disk (`core.io.cache`).
"""

import copy
import hashlib
import io
import json
import threading
import warnings
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.base.errors import StudioError
from core.base.files import write_atomic
from core.data.classes import CLASS_NAMES, IMAGE_SIZE, MEAN, STD
from core.io import cache, checkpoint
from core.models import uses_flip_averaging, uses_shift_averaging

FORMATS = {"onnx": ".onnx", "torchscript": ".pt"}
OPSET = 23
INPUT_NAME, OUTPUT_NAME = "pixels", "logits"
_lock = threading.Lock()  # the exporters keep global state: one export at a time per process
METADATA_KEYS = (
    "class_names",
    "architecture",
    "arch_settings",
    "test_accuracy",
    "name",
    "normalization",
    "input",
    "source",
    "test_time_flip",
    "test_time_shift",
)
DESCRIPTION = (
    "input 'pixels': float32 (N, 1, 28, 28) in [0, 1], light garment on black; "
    "output 'logits': float32 (N, {classes}), softmax gives the probabilities of the classes in class_names"
)


class Exportable(nn.Module):
    """The trained network with Fashion-MNIST's normalisation in front of it (a FlipAveraged model averages
    the logits of the image and its mirror image itself)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(MEAN, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(STD, dtype=torch.float32))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model((pixels - self.mean) / self.std)


def prepare(loaded: "checkpoint.LoadedModel") -> Exportable:
    """A float32, CPU, evaluation-mode copy of the model with the normalisation inside."""
    model = copy.deepcopy(loaded.model).to("cpu", dtype=torch.float32, memory_format=torch.contiguous_format)
    wrapped = Exportable(model).eval()
    for p in wrapped.parameters():
        p.requires_grad_(False)
    return wrapped


def properties(loaded: "checkpoint.LoadedModel") -> dict[str, str]:
    """What an exported file says about itself (string keys and values, as ONNX metadata requires)."""
    meta = loaded.metadata
    accuracy = (meta.get("metrics") or {}).get("test_accuracy")
    return {
        "class_names": json.dumps(list(loaded.class_names)),
        "architecture": loaded.arch,
        "arch_settings": json.dumps(meta.get("arch_settings", {})),
        "test_accuracy": "" if accuracy is None else f"{accuracy:.6f}",
        "test_time_flip": "true" if uses_flip_averaging(loaded.model) else "false",
        "test_time_shift": "true" if uses_shift_averaging(loaded.model) else "false",
        "name": loaded.name,
        "normalization": json.dumps({"mean": MEAN, "std": STD, "inside_graph": True}),
        "input": DESCRIPTION.format(classes=len(loaded.class_names)),
        "source": "Fashion-MNIST Studio",
    }


def example_input(batch: int = 2) -> torch.Tensor:
    return torch.rand(batch, 1, IMAGE_SIZE, IMAGE_SIZE, generator=torch.Generator().manual_seed(0))


def to_onnx(loaded: "checkpoint.LoadedModel") -> bytes:
    """The model as ONNX bytes (torch.export-based exporter, opset OPSET, dynamic batch), with metadata."""
    import onnx

    model = prepare(loaded)
    try:
        with warnings.catch_warnings(), redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                model,
                (example_input(),),
                dynamo=True,
                opset_version=OPSET,
                verbose=False,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_shapes=({0: torch.export.Dim("batch")},),
            )
    except Exception as e:  # the exporter raises many types; the user needs one line
        raise StudioError(f"{loaded.name}: ONNX export failed ({_first_line(e)}).") from None
    proto = program.model_proto
    for key, value in properties(loaded).items():
        proto.metadata_props.add(key=key, value=value)
    proto.doc_string = DESCRIPTION.format(classes=len(loaded.class_names))
    proto.producer_name = "fashion-mnist-studio"
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def to_torchscript(loaded: "checkpoint.LoadedModel") -> bytes:
    """The model traced to TorchScript; the same metadata as ONNX in its extra files (`<key>.txt`)."""
    model = prepare(loaded)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, example_input(), check_inputs=[(example_input(5),)])
    buffer = io.BytesIO()
    extra = {f"{k}.txt": v for k, v in properties(loaded).items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript is deprecated upstream, still what many runtimes load
        torch.jit.save(traced, buffer, _extra_files=extra)
    return buffer.getvalue()


def export_bytes(path, fmt: str) -> bytes:
    """The export of a checkpoint file in `fmt`, from the on-disk cache when the checkpoint is unchanged."""
    if fmt not in FORMATS:
        raise StudioError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}.")
    path = Path(path)
    file = _cache_path(path, fmt)
    if file.is_file():
        try:
            return file.read_bytes()
        except OSError:
            pass
    loaded = checkpoint.load(path)
    with _lock:
        data = to_onnx(loaded) if fmt == "onnx" else to_torchscript(loaded)
    cache.write_bytes(file, data)
    return data


def export(path, fmt: str, out) -> Path:
    """Write the export of checkpoint `path` to `out` (atomically)."""
    data = export_bytes(path, fmt)
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(out, data)
    except OSError as e:
        raise StudioError(f"cannot write {out}: {e.strerror or e}.") from None
    return out


def download_name(path, fmt: str, name: str | None = None) -> str:
    return f"{name or Path(path).stem}{FORMATS[fmt]}"


def _cache_path(path: Path, fmt: str) -> Path:
    """Keyed by the checkpoint's modification time and size, so a changed checkpoint is exported again."""
    try:
        stat = path.stat()
    except OSError:
        checkpoint.read_metadata(path)  # raises the CheckpointError that names the problem
        raise
    key = hashlib.sha1(f"{stat.st_mtime_ns}-{stat.st_size}-{OPSET}".encode()).hexdigest()[:10]
    return cache.cache_file(path, f".{key}{FORMATS[fmt]}")


def _first_line(e: Exception) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:160]


# ---- reading exports back (checks and tests) ----


def onnx_session(data: bytes):
    """An ONNX Runtime session on CPU for exported bytes."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def onnx_metadata(data: bytes) -> dict[str, str]:
    return dict(onnx_session(data).get_modelmeta().custom_metadata_map)


def run_onnx(session, pixels: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Logits (N, 10) from an ONNX Runtime session for float32 pixels (N, 1, 28, 28) in [0, 1]."""
    out = [
        session.run([OUTPUT_NAME], {INPUT_NAME: pixels[i : i + batch_size].astype(np.float32)})[0]
        for i in range(0, len(pixels), batch_size)
    ]
    return np.concatenate(out) if out else np.zeros((0, len(CLASS_NAMES)), np.float32)


def load_torchscript(data: bytes) -> tuple[torch.jit.ScriptModule, dict[str, str]]:
    """A TorchScript export and its extra files (keys without `.txt`)."""
    extra = {f"{k}.txt": "" for k in METADATA_KEYS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = torch.jit.load(io.BytesIO(data), map_location="cpu", _extra_files=extra)
    return module, {k[:-4]: (v.decode() if isinstance(v, bytes) else v) for k, v in extra.items()}


def pixels(images: torch.Tensor) -> np.ndarray:
    """uint8 (N, 28, 28) images -> float32 (N, 1, 28, 28) in [0, 1], what an exported model takes."""
    return (images.float() / 255.0).unsqueeze(1).numpy()
