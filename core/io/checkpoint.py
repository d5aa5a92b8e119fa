"""Save and load checkpoints: safetensors weights plus JSON metadata in the same file. No pickle; every read
goes through core.io.checkpoint_check before anything is built."""

import functools
import importlib.metadata
import json
import platform
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import torch
from safetensors.torch import save as save_tensors
from torch import nn

from core.base.errors import CheckpointError, StudioError
from core.base.files import write_atomic
from core.data.classes import CLASS_NAMES, MEAN, STD
from core.io import checkpoint_check, class_sources
from core.models import build, fast_layout, get, network_of, set_flip_averaging, with_outputs

FORMAT = checkpoint_check.FORMAT
MAX_BYTES = 200 * 1024 * 1024


@dataclass
class LoadedModel:
    """A model ready for inference (eval mode) with what its checkpoint says about it."""

    model: nn.Module
    arch: str
    settings: dict
    metadata: dict
    path: Path

    @property
    def name(self) -> str:
        return self.metadata.get("name") or self.path.stem

    @property
    def display_name(self) -> str:
        return get(self.arch).display_name

    @property
    def class_names(self) -> tuple[str, ...]:
        """The classes it scores, in output order: Fashion-MNIST's ten, then any a student taught it."""
        return class_sources.names(self.metadata)


@functools.cache
def versions() -> dict:
    """Versions recorded in each checkpoint; torchvision's from its package metadata (importing it takes 0.4 s)."""
    try:
        vision = importlib.metadata.version("torchvision")
    except importlib.metadata.PackageNotFoundError:
        vision = None
    return {"python": platform.python_version(), "torch": torch.__version__, "torchvision": vision}


def save(path, model: nn.Module, arch: str, settings: dict, metadata: dict, half: bool = False) -> Path:
    """Write weights and metadata atomically (a partial file never replaces a good one)."""
    path = Path(path)
    state = {k: v.detach().to("cpu").contiguous() for k, v in network_of(model).state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    meta = {
        "format": FORMAT,
        "arch": arch,
        "arch_settings": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()},
        "normalization": {"mean": MEAN, "std": STD},
        "class_names": list(CLASS_NAMES),
        "dtype": "float16" if half else "float32",
        "versions": dict(versions()),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **metadata,
    }
    _write(path, state, meta)
    return path


def _write(path: Path, state: dict, meta: dict) -> None:
    """The file written atomically; a full disk or an unwritable folder is one line that names it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StudioError(f"cannot write checkpoint {path}: {e.strerror or e}.") from None
    write_atomic(path, save_tensors(state, metadata={"studio": json.dumps(meta)}))


def read_metadata(path) -> dict:
    """The metadata dict of a checkpoint, without loading its weights: the header, the studio metadata and the
    architecture's settings are checked (core.io.checkpoint_check), the tensors are not read."""
    path = Path(path)
    size = _check_file(path)
    try:
        with open(path, "rb") as f:
            length = checkpoint_check.header_length(f.read(8), size, path.name)
            raw = f.read(length)
    except OSError as e:
        raise CheckpointError(f"{path.name}: cannot be read ({e.strerror or e}).") from None
    return checkpoint_check.header(raw, size, path.name).meta


def read_checked(path) -> "checkpoint_check.Checked":
    """The whole checkpoint read and checked (metadata, settings, every tensor): a CheckpointError otherwise."""
    path = Path(path)
    _check_file(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CheckpointError(f"{path.name}: cannot be read ({e.strerror or e}).") from None
    if len(data) > MAX_BYTES:  # it grew since it was measured
        raise CheckpointError(f"{path.name}: {len(data) / 1e6:.0f} MB is too large for a checkpoint.")
    return checkpoint_check.validate(data, path.name)


def load(path, device="cpu") -> LoadedModel:
    """Build the recorded architecture and load the weights, only after every check passed; every failure is a
    CheckpointError. Memory: the file, its tensors and the model, each about the file's size."""
    path = Path(path)
    checked = read_checked(path)
    arch = checked.meta["arch"]
    model = with_outputs(build(arch, checked.settings), len(class_sources.names(checked.meta)))
    expected = model.state_dict()
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in checked.tensors.items()})
    model.to(device, memory_format=fast_layout(model, device)).eval()
    flip, shift = predicts_with_flip(checked.meta), predicts_with_shifts(checked.meta)
    model = set_flip_averaging(model, flip, shift=shift)  # a FlipAveraged model, or the network
    return LoadedModel(model, arch, checked.settings, checked.meta, path)


def predicts_with_flip(metadata: dict) -> bool:
    """Whether the checkpoint's model predicts with test-time flip (recorded in its training config)."""
    config = metadata.get("config")
    return isinstance(config, dict) and config.get("test_time_flip") is True


def predicts_with_shifts(metadata: dict) -> bool:
    """Whether its test-time flip also averages over one-pixel shifts (recorded in its training config)."""
    config = metadata.get("config")
    return predicts_with_flip(metadata) and config.get("test_time_shift") is True


def update_metadata(path, **changes) -> dict:
    """Rewrite a checkpoint with some metadata fields changed (weights untouched, atomic); returns the metadata."""
    path = Path(path)
    checked = read_checked(path)
    meta, state = {**checked.meta, **changes}, checked.tensors
    _write(path, state, meta)
    return meta


def _check_file(path: Path) -> int:
    """The file's size, if it is a file of a size a checkpoint can have."""
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}.")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise CheckpointError(f"{path.name}: {size / 1e6:.0f} MB is too large for a checkpoint.")
    return size


def command_line() -> str:
    return " ".join(["python -m core.train", *sys.argv[1:]])
